package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.config.Receiver;
import dev.trainwatch.alerts.dispatch.Flush;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.metrics.AlertsMetrics.Counter;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.model.AlertLinks;
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
 * The notification pipeline of one flush, Alertmanager's stages in sequence: <b>dedup</b> (skip if
 * the notification log says nothing changed and the repeat interval has not passed) -> <b>retry</b>
 * (send with backoff) -> <b>record</b> (write the notification log, only after the send succeeded).
 * A notification that fails permanently is written to the dead-letter topic (acknowledged) and then
 * recorded as dead-lettered, so it is not re-sent every group interval. Silences and inhibition
 * were applied to firing alerts by the dispatcher (mute stage); a resolved alert is sent only to a
 * receiver whose last notification of the group had it firing, so a receiver never hears "resolved"
 * for what it never saw fire. Forward flushes (forward-mode receivers) skip dedup and record: every
 * change goes out once.
 */
public final class NotificationPipeline {

  /** Publishes a dead letter and returns once the broker acknowledged it. */
  public interface DeadLetters {
    void publish(DeadLetter d) throws Exception;
  }

  /** How a flush ended. */
  public enum Outcome {
    DELIVERED,
    DEDUPLICATED,
    DEAD_LETTERED
  }

  private final Map<String, Receiver> receivers;
  private final Map<String, Notifier> notifiers;
  private final NotificationLog nflog;
  private final RetryStage retry;
  private final DeadLetters deadLetters;
  private final AlertsMetrics metrics;
  private final String externalUrl;
  private final AlertLinks links;

  public NotificationPipeline(
      Map<String, Receiver> receivers,
      Map<String, Notifier> notifiers,
      NotificationLog nflog,
      RetryStage retry,
      DeadLetters deadLetters,
      AlertsMetrics metrics,
      String externalUrl) {
    this(receivers, notifiers, nflog, retry, deadLetters, metrics, externalUrl, AlertLinks.NONE);
  }

  public NotificationPipeline(
      Map<String, Receiver> receivers,
      Map<String, Notifier> notifiers,
      NotificationLog nflog,
      RetryStage retry,
      DeadLetters deadLetters,
      AlertsMetrics metrics,
      String externalUrl,
      AlertLinks links) {
    this.links = links;
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
    if (f.forward()) {
      List<Alert> changes =
          f.alerts().stream().filter(a -> !a.resolved() || r.sendResolved()).toList();
      return changes.isEmpty() ? Outcome.DEDUPLICATED : send(f, r, changes, null);
    }
    Set<String> lastFiring =
        nflog.get(f.groupKey(), r.name()).map(NflogEntry::firing).orElse(Set.of());
    Set<String> firing = new TreeSet<>();
    Set<String> resolved = new TreeSet<>();
    List<Alert> toSend = new ArrayList<>();
    for (Alert a : f.alerts()) {
      if (a.resolved() && !lastFiring.contains(a.fingerprint())) {
        continue; // never notified firing to this receiver (muted then, or resolved within
        // group_wait)
      }
      (a.resolved() ? resolved : firing).add(a.labelsHash());
      if (!a.resolved() || r.sendResolved()) {
        toSend.add(a);
      }
    }
    // dedup stage
    if (!nflog.needsUpdate(
        f.groupKey(),
        r.name(),
        firing,
        resolved,
        r.sendResolved(),
        f.route().repeatInterval(),
        f.now())) {
      metrics.inc(Counter.SUPPRESSED, r.name());
      return Outcome.DEDUPLICATED;
    }
    NflogEntry entry =
        new NflogEntry(f.groupKey(), r.name(), firing, resolved, f.now().toEpochMilli(), false);
    if (toSend.isEmpty()) {
      nflog.log(entry); // all resolved and this receiver does not want resolved notifications
      return Outcome.DEDUPLICATED;
    }
    return send(f, r, toSend, entry);
  }

  /** Retry, then record ({@code entry} null: nothing to record, a forward flush). */
  private Outcome send(Flush f, Receiver r, List<Alert> toSend, NflogEntry entry) throws Exception {
    Notification n =
        new Notification(
            f.groupKey(), r.name(), f.groupLabels(), toSend, externalUrl, links, f.now());
    Notifier notifier = notifiers.get(r.name());
    // retry stage
    DeliveryResult result = retry.run(notifier, n);
    // record stage
    if (result instanceof DeliveryResult.Delivered) {
      if (entry != null) {
        nflog.log(entry);
      }
      metrics.inc(Counter.DELIVERED, r.name());
      return Outcome.DELIVERED;
    }
    metrics.inc(Counter.FAILED, r.name());
    deadLetters.publish(
        new DeadLetter(
            "receiver " + r.name() + ": " + result.describe(),
            f.groupLabels().getOrDefault(Alert.RUN, toSend.get(0).label(Alert.RUN)),
            "alerts receiver=" + r.name() + " group=" + f.groupKey(),
            new String(notifier.body(n), StandardCharsets.UTF_8),
            f.now().toEpochMilli()));
    metrics.inc(Counter.DEAD_LETTERED, r.name());
    if (entry != null) {
      nflog.log(
          new NflogEntry(
              entry.groupKey(),
              entry.receiver(),
              entry.firing(),
              entry.resolved(),
              entry.atMs(),
              true));
    }
    return Outcome.DEAD_LETTERED;
  }
}
