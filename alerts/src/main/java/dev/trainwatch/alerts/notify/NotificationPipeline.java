package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.config.AlertsConfig.Receiver;
import dev.trainwatch.alerts.dispatch.Flush;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.metrics.AlertsMetrics.Counter;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.nflog.NflogEntry;
import dev.trainwatch.alerts.nflog.NotificationLog;
import dev.trainwatch.wire.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The notification pipeline of one flush, Alertmanager's stages in sequence:
 * <b>dedup</b> (skip if the notification log says nothing changed and the repeat interval has
 * not passed) -> <b>retry</b> (send with backoff) -> <b>record</b> (write the notification log,
 * only after the send succeeded). A notification that fails permanently is written to the
 * dead-letter topic (acknowledged) and then recorded as dead-lettered, so it is not re-sent
 * every group interval. Silences and inhibition were applied by the dispatcher (mute stage).
 */
public final class NotificationPipeline {

  /** Publishes a dead letter and returns once the broker acknowledged it. */
  public interface DeadLetters {
    void publish(DeadLetter d) throws Exception;
  }

  /** How a flush ended. */
  public enum Outcome { DELIVERED, DEDUPLICATED, DEAD_LETTERED }

  private final Map<String, Receiver> receivers;
  private final Map<String, Notifier> notifiers;
  private final NotificationLog nflog;
  private final RetryStage retry;
  private final DeadLetters deadLetters;
  private final AlertsMetrics metrics;
  private final String externalUrl;

  public NotificationPipeline(Map<String, Receiver> receivers, Map<String, Notifier> notifiers,
      NotificationLog nflog, RetryStage retry, DeadLetters deadLetters, AlertsMetrics metrics,
      String externalUrl) {
    this.receivers = receivers;
    this.notifiers = notifiers;
    this.nflog = nflog;
    this.retry = retry;
    this.deadLetters = deadLetters;
    this.metrics = metrics;
    this.externalUrl = externalUrl;
  }

  /** Runs the stages; throws (leaving the log untouched) if the dead letter cannot be written. */
  public Outcome run(Flush f) throws Exception {
    Receiver r = receivers.get(f.route().receiver());
    Set<String> firing = new TreeSet<>();
    Set<String> resolved = new TreeSet<>();
    List<Alert> toSend = new ArrayList<>();
    for (Alert a : f.alerts()) {
      (a.resolved() ? resolved : firing).add(a.labelsHash());
      if (!a.resolved() || r.sendResolved()) {
        toSend.add(a);
      }
    }
    // dedup stage
    if (!nflog.needsUpdate(f.groupKey(), r.name(), firing, resolved, r.sendResolved(),
        f.route().repeatInterval(), f.now())) {
      metrics.inc(Counter.SUPPRESSED, r.name());
      return Outcome.DEDUPLICATED;
    }
    NflogEntry entry = new NflogEntry(f.groupKey(), r.name(), firing, resolved,
        f.now().toEpochMilli(), false);
    if (toSend.isEmpty()) {
      nflog.log(entry); // all resolved and this receiver does not want resolved notifications
      return Outcome.DEDUPLICATED;
    }
    Notification n = new Notification(f.groupKey(), r.name(), f.groupLabels(), toSend, externalUrl);
    Notifier notifier = notifiers.get(r.name());
    // retry stage
    DeliveryResult result = retry.run(notifier, n);
    // record stage
    if (result instanceof DeliveryResult.Delivered) {
      nflog.log(entry);
      metrics.inc(Counter.DELIVERED, r.name());
      return Outcome.DELIVERED;
    }
    metrics.inc(Counter.FAILED, r.name());
    deadLetters.publish(new DeadLetter("receiver " + r.name() + ": " + result.describe(),
        f.groupLabels().get(Alert.RUN), "alerts receiver=" + r.name() + " group=" + f.groupKey(),
        new String(notifier.body(n), StandardCharsets.UTF_8), f.now().toEpochMilli()));
    metrics.inc(Counter.DEAD_LETTERED, r.name());
    nflog.log(new NflogEntry(entry.groupKey(), entry.receiver(), firing, resolved, entry.atMs(), true));
    return Outcome.DEAD_LETTERED;
  }
}
