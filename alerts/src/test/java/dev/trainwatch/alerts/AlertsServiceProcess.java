package dev.trainwatch.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** The alerts service as its user runs it: {@code java -jar trainwatch-alerts.jar --config}. */
final class AlertsServiceProcess implements AutoCloseable {

  private final Process process;
  private final int port;
  final Path log;

  private AlertsServiceProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** {@code yaml} must set {@code http.port: <port>}. */
  static AlertsServiceProcess start(Path dir, String yaml, int port) throws Exception {
    Path jar = Path.of("target", "trainwatch-alerts.jar");
    assertThat(jar).as("the shaded service jar (mvn package)").exists();
    Files.createDirectories(dir);
    Path config = dir.resolve("alerts.yaml");
    Files.writeString(config, yaml);
    Path log = dir.resolve("service-" + System.nanoTime() + ".log");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-jar",
                jar.toString(),
                "--config",
                config.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    AlertsServiceProcess s = new AlertsServiceProcess(p, port, log);
    HttpClient http = HttpClient.newHttpClient();
    TestReceiver.await(
        Duration.ofSeconds(60),
        () -> {
          try {
            return http.send(
                        HttpRequest.newBuilder(URI.create(s.url() + "/healthz")).build(),
                        HttpResponse.BodyHandlers.discarding())
                    .statusCode()
                == 200;
          } catch (Exception e) {
            return !p.isAlive() && fail(log);
          }
        },
        "alerts service healthy on " + port);
    return s;
  }

  private static boolean fail(Path log) {
    try {
      throw new AssertionError("alerts service exited:\n" + Files.readString(log));
    } catch (IOException e) {
      throw new AssertionError("alerts service exited", e);
    }
  }

  String url() {
    return "http://127.0.0.1:" + port;
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
