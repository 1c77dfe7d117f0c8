package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.dispatch.Flush;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.metrics.AlertsMetrics.Counter;
import dev.trainwatch.alerts.nflog.NflogEntry;
import dev.trainwatch.alerts.nflog.NotificationLog;

/**
 * Alertmanager's dedup: ends the delivery when the notification log says this receiver already
 * knows these firing and resolved alerts and the repeat interval has not passed (counted as
 * deduplicated). A delivery left with nothing to send ends here too; its entry is recorded so the
 * next flush compares against it. Forward deliveries (no entry) are never deduplicated.
 */
public record DedupStage(NotificationLog nflog, AlertsMetrics metrics) implements Stage {

  @Override
  public Step exec(Delivery d) {
    Flush f = d.flush();
    NflogEntry e = d.entry();
    if (e != null
        && !nflog.needsUpdate(
            f.groupKey(),
            e.receiver(),
            e.firing(),
            e.resolved(),
            d.receiver().sendResolved(),
            f.route().repeatInterval(),
            f.now())) {
      metrics.inc(Counter.SUPPRESSED, e.receiver());
      return Stage.done(NotificationPipeline.Outcome.DEDUPLICATED);
    }
    if (d.alerts().isEmpty()) {
      if (e != null) {
        nflog.log(e); // all resolved, and this receiver does not want resolved notifications
      }
      return Stage.done(NotificationPipeline.Outcome.DEDUPLICATED);
    }
    return Stage.next(d);
  }
}
