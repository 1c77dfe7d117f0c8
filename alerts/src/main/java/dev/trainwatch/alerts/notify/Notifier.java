package dev.trainwatch.alerts.notify;

/** Sends one notification once; retrying is the pipeline's job, not the notifier's. */
public interface Notifier {

  /** Never throws for delivery failures: they are returned classified. */
  DeliveryResult send(Notification n) throws InterruptedException;

  /** The bytes that were (or would be) sent, for the dead-letter record. */
  byte[] body(Notification n);
}
