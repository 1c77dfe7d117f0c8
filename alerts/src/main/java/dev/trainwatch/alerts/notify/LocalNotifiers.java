package dev.trainwatch.alerts.notify;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Receivers a person can watch without any server: a JSON-lines file and stdout. */
public final class LocalNotifiers {

  private LocalNotifiers() {}

  /** Appends the webhook v4 payload as one JSON line per notification. */
  public record FileNotifier(Path path, int maxAlerts) implements Notifier {
    @Override
    public byte[] body(Notification n) {
      return Payloads.webhookV4(n, maxAlerts);
    }

    @Override
    public synchronized DeliveryResult send(Notification n) {
      try {
        if (path.getParent() != null) {
          Files.createDirectories(path.getParent());
        }
        byte[] line =
            (new String(body(n), StandardCharsets.UTF_8) + "\n").getBytes(StandardCharsets.UTF_8);
        Files.write(path, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        return new DeliveryResult.Delivered(200);
      } catch (IOException e) {
        // a full disk may clear up; a missing permission will not, but both surface in metrics
        return new DeliveryResult.Retryable("cannot append to " + path + ": " + e.getMessage());
      }
    }
  }

  /** Prints one summary line per notification, and one indented line per alert. */
  public record StdoutNotifier(PrintStream out) implements Notifier {
    @Override
    public byte[] body(Notification n) {
      return n.summaryLine().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public DeliveryResult send(Notification n) {
      StringBuilder sb = new StringBuilder("trainwatch alert ").append(n.summaryLine());
      n.alerts()
          .forEach(
              a ->
                  sb.append("\n    ")
                      .append(a.resolved() ? "resolved " : "firing   ")
                      .append(a.labels().get("severity"))
                      .append(' ')
                      .append(a.labels().get("detector"))
                      .append(" run=")
                      .append(a.labels().get("run"))
                      .append(" step=")
                      .append(a.annotations().get("step"))
                      .append(": ")
                      .append(a.annotations().get("summary")));
      out.println(sb);
      out.flush();
      return new DeliveryResult.Delivered(200);
    }
  }
}
