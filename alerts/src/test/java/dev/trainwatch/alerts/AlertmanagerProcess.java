package dev.trainwatch.alerts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The real Prometheus Alertmanager (Debian {@code prometheus-alertmanager} 0.25) on loopback:
 * storage in a temp dir, no gossip ({@code --cluster.listen-address=}), one webhook receiver
 * notified per alert ({@code group_by: ['...']}) so each firing and each resolution of an alert is
 * one webhook call, and a short {@code resolve_timeout}.
 */
final class AlertmanagerProcess implements AutoCloseable {

  static final Path BINARY = Path.of("/usr/bin/prometheus-alertmanager");
  static final Path AMTOOL = Path.of("/usr/bin/amtool");
  private final Process process;
  private final int port;
  private final HttpClient http = HttpClient.newHttpClient();

  private AlertmanagerProcess(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  static boolean installed() {
    return Files.isExecutable(BINARY) && Files.isExecutable(AMTOOL);
  }

  static AlertmanagerProcess start(Path dir, String webhookUrl, Duration resolveTimeout)
      throws Exception {
    Files.createDirectories(dir);
    Path config = dir.resolve("alertmanager.yml");
    Files.writeString(
        config,
        """
        global:
          resolve_timeout: %ds
        route:
          receiver: hook
          group_by: ['...']
          group_wait: 500ms
          group_interval: 1s
          repeat_interval: 1h
        receivers:
          - name: hook
            webhook_configs:
              - url: '%s'
                send_resolved: true
        """
            .formatted(resolveTimeout.toSeconds(), webhookUrl));
    int port = freePort();
    Process p =
        new ProcessBuilder(
                BINARY.toString(),
                "--config.file=" + config,
                "--storage.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--cluster.listen-address=",
                "--log.level=warn")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("alertmanager.log").toFile())
            .start();
    AlertmanagerProcess am = new AlertmanagerProcess(p, port);
    TestReceiver.await(Duration.ofSeconds(20), am::ready, "alertmanager ready on " + port);
    return am;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  String url() {
    return "http://127.0.0.1:" + port;
  }

  private boolean ready() {
    try {
      return http.send(
                  HttpRequest.newBuilder(URI.create(url() + "/-/ready")).build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode()
          == 200;
    } catch (Exception e) {
      return false;
    }
  }

  /** Alertmanager's own view: {@code GET /api/v2/alerts} (unresolved alerts). */
  JsonNode alerts() throws Exception {
    String body =
        http.send(
                HttpRequest.newBuilder(URI.create(url() + "/api/v2/alerts")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    return new ObjectMapper().readTree(body);
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
