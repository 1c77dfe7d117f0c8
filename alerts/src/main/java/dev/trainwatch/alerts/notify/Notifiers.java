package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.config.AlertsConfig.Receiver;
import java.io.PrintStream;
import java.net.http.HttpClient;

/** Builds the notifier for a configured receiver type. */
public final class Notifiers {

  private Notifiers() {}

  public static Notifier create(Receiver r, HttpClient client, PrintStream stdout) {
    return switch (r.type()) {
      case "webhook" -> new HttpNotifier(r, client, n -> Payloads.webhookV4(n, r.maxAlerts()));
      case "slack" -> new HttpNotifier(r, client, n -> Payloads.slack(n, r.maxAlerts()));
      case "alertmanager" ->
          new HttpNotifier(r, client, n -> Payloads.alertmanagerV2(n, r.resendInterval()));
      case "file" -> new LocalNotifiers.FileNotifier(r.path(), r.maxAlerts());
      case "stdout" -> new LocalNotifiers.StdoutNotifier(stdout);
      default -> throw new IllegalArgumentException("unknown receiver type " + r.type());
    };
  }
}
