package dev.trainwatch.alerts;

import dev.trainwatch.alerts.config.Receiver;
import dev.trainwatch.alerts.dispatch.Dispatcher;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.metrics.AlertsMetrics.Counter;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.model.AlertLinks;
import dev.trainwatch.alerts.nflog.NflogEntry;
import dev.trainwatch.alerts.nflog.NotificationLog;
import dev.trainwatch.alerts.notify.DeliveryResult;
import dev.trainwatch.alerts.notify.Notification;
import dev.trainwatch.alerts.notify.Notifier;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-sends every firing alert an Alertmanager receiver was told about, each {@code
 * resend_interval}, with endsAt {@value Receiver.Alertmanager#ENDS_AT_INTERVALS} intervals ahead:
 * the Prometheus rule that keeps a long-firing alert active in Alertmanager (which otherwise
 * resolves it after resolve_timeout) and lets it expire on its own, 4 intervals after trainwatch
 * stops, if trainwatch goes away.
 *
 * <p>What is repeated is derived, not stored: the alerts of the receiver's groups that still fire,
 * are unmuted, and were firing in its last notification (the notification log), or for a
 * forward-mode receiver every firing alert. So it survives a restart with nothing new in the
 * journal. A re-send is one attempt without the notification log; a failure is counted and logged,
 * and the next interval tries again (endsAt leaves 3 more intervals of slack).
 */
final class AlertmanagerResender {

  private static final Logger LOG = LoggerFactory.getLogger(AlertmanagerResender.class);

  private final Map<String, Receiver.Alertmanager> receivers = new HashMap<>();
  private final Map<String, Notifier> notifiers;
  private final NotificationLog nflog;
  private final Executor executor;
  private final AlertsMetrics metrics;
  private final AlertLinks links;
  private final String externalUrl;
  private final Map<String, Long> nextMs = new HashMap<>();
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final Set<String> failing = ConcurrentHashMap.newKeySet();

  AlertmanagerResender(
      Map<String, Receiver> all,
      Map<String, Notifier> notifiers,
      NotificationLog nflog,
      Executor executor,
      AlertsMetrics metrics,
      AlertLinks links,
      String externalUrl) {
    all.values().stream()
        .filter(r -> r instanceof Receiver.Alertmanager)
        .map(r -> (Receiver.Alertmanager) r)
        .forEach(r -> receivers.put(r.name(), r));
    this.notifiers = notifiers;
    this.nflog = nflog;
    this.executor = executor;
    this.metrics = metrics;
    this.links = links;
    this.externalUrl = externalUrl;
  }

  /** Called on the dispatch thread each tick; sends on the executor. */
  void tick(Dispatcher dispatcher, Instant now) {
    for (Receiver.Alertmanager r : receivers.values()) {
      long due =
          nextMs.computeIfAbsent(r.name(), k -> now.toEpochMilli() + r.resendInterval().toMillis());
      if (now.toEpochMilli() < due || inFlight.contains(r.name())) {
        continue;
      }
      nextMs.put(r.name(), now.toEpochMilli() + r.resendInterval().toMillis());
      List<Alert> firing =
          dispatcher.stillFiring(
              r.name(),
              gk -> nflog.get(gk, r.name()).map(NflogEntry::firing).orElse(Set.of()),
              now);
      if (firing.isEmpty()) {
        continue;
      }
      inFlight.add(r.name());
      Notification n =
          new Notification("resend", r.name(), Map.of(), firing, externalUrl, links, now);
      executor.execute(() -> send(r, n));
    }
  }

  private void send(Receiver.Alertmanager r, Notification n) {
    try {
      DeliveryResult res = notifiers.get(r.name()).send(n);
      if (res instanceof DeliveryResult.Delivered) {
        metrics.inc(Counter.RESENT, r.name());
        if (failing.remove(r.name())) {
          LOG.info("re-send to {} works again", r.name());
        }
      } else {
        metrics.inc(Counter.RESEND_FAILED, r.name());
        if (failing.add(r.name())) { // once per outage, not once per interval
          LOG.warn(
              "re-send of {} firing alerts to {} failed: {}; retrying every {} s",
              n.alerts().size(),
              r.name(),
              res.describe(),
              r.resendInterval().toSeconds());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      inFlight.remove(r.name());
    }
  }
}
