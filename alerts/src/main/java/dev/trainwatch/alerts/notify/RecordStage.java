package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.metrics.AlertsMetrics.Counter;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.nflog.NflogEntry;
import dev.trainwatch.alerts.nflog.NotificationLog;
import dev.trainwatch.wire.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Records how a send ended, after Alertmanager's {@code SetNotifiesStage}: a delivered notification
 * is written to the notification log (only now, after the receiver's 2xx, so a crash before this
 * line re-sends rather than loses). A failed one is published to the dead-letter topic first
 * (acknowledged by the broker) and then recorded as dead-lettered, so it is not re-sent every group
 * interval; if the dead letter cannot be written this throws and the log stays untouched.
 */
public record RecordStage(
    NotificationLog nflog,
    Map<String, Notifier> notifiers,
    NotificationPipeline.DeadLetters deadLetters,
    AlertsMetrics metrics)
    implements Stage {

  @Override
  public Step exec(Delivery d) throws Exception {
    String receiver = d.receiver().name();
    NflogEntry e = d.entry();
    if (d.result() instanceof DeliveryResult.Delivered) {
      if (e != null) {
        nflog.log(e);
      }
      metrics.inc(Counter.DELIVERED, receiver);
      return Stage.done(NotificationPipeline.Outcome.DELIVERED);
    }
    metrics.inc(Counter.FAILED, receiver);
    Notification n = d.notification();
    deadLetters.publish(
        new DeadLetter(
            "receiver " + receiver + ": " + d.result().describe(),
            n.groupLabels().getOrDefault(Alert.RUN, d.alerts().get(0).label(Alert.RUN)),
            "alerts receiver=" + receiver + " group=" + n.groupKey(),
            new String(notifiers.get(receiver).body(n), StandardCharsets.UTF_8),
            d.flush().now().toEpochMilli()));
    metrics.inc(Counter.DEAD_LETTERED, receiver);
    if (e != null) {
      nflog.log(
          new NflogEntry(e.groupKey(), e.receiver(), e.firing(), e.resolved(), e.atMs(), true));
    }
    return Stage.done(NotificationPipeline.Outcome.DEAD_LETTERED);
  }
}
