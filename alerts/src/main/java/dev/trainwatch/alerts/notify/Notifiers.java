package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.config.Receiver;
import java.io.PrintStream;
import java.net.http.HttpClient;

/** Builds the notifier for a configured receiver (one per {@link Receiver} record type). */
public final class Notifiers {

  private Notifiers() {}

  public static Notifier create(Receiver r, HttpClient client, PrintStream stdout) {
    // a switch with type patterns needs Java 21; Receiver is sealed, so this chain is complete
    if (r instanceof Receiver.Webhook w) {
      return new HttpNotifier(w, client, n -> Payloads.webhookV4(n, w.maxAlerts()));
    } else if (r instanceof Receiver.Slack s) {
      return new HttpNotifier(s, client, n -> Payloads.slack(n, s.maxAlerts()));
    } else if (r instanceof Receiver.Alertmanager a) {
      return new HttpNotifier(a, client, n -> Payloads.alertmanagerV2(n, a.resendInterval()));
    } else if (r instanceof Receiver.File f) {
      return new LocalNotifiers.FileNotifier(f.path(), f.maxAlerts());
    } else if (r instanceof Receiver.Stdout) {
      return new LocalNotifiers.StdoutNotifier(stdout);
    }
    throw new AssertionError("unhandled receiver " + r);
  }
}
