package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.config.Receiver;
import dev.trainwatch.alerts.dispatch.Flush;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.nflog.NflogEntry;
import java.util.List;

/**
 * One flush on its way to one receiver, as the {@link Stage}s fill it in: the alerts this receiver
 * gets, the notification log entry to write once it is handled ({@code null} for a forward flush,
 * which is not recorded), the notification sent and its result.
 */
public record Delivery(
    Flush flush,
    Receiver receiver,
    List<Alert> alerts,
    NflogEntry entry,
    Notification notification,
    DeliveryResult result) {

  public Delivery {
    alerts = List.copyOf(alerts);
  }

  /** Before any stage: every alert of the flush, nothing decided. */
  public static Delivery of(Flush f, Receiver r) {
    return new Delivery(f, r, f.alerts(), null, null, null);
  }

  public Delivery selected(List<Alert> toSend, NflogEntry e) {
    return new Delivery(flush, receiver, toSend, e, notification, result);
  }

  public Delivery sent(Notification n, DeliveryResult r) {
    return new Delivery(flush, receiver, alerts, entry, n, r);
  }
}
