package dev.trainwatch.embedded;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real InfluxDB 1.x server ({@code influxd}, Debian package {@code influxdb}) started as a child
 * process on loopback ephemeral ports, with its meta, data and WAL directories in a temporary
 * directory. {@link #close()} kills the process and deletes the directory. It is the embedded
 * default of trainwatch's storage and the server of the storage tests.
 *
 * <pre>{@code
 * try (EmbeddedInflux influx = EmbeddedInflux.start()) {
 *   String url = influx.url();   // http://127.0.0.1:<port>
 * }
 * }</pre>
 *
 * <p>Why a child process and not a container or an in-JVM fake: influxd 1.6 starts in well under a
 * second, needs no engine, and the dashboards' InfluxQL must run against the real query engine to
 * prove anything.
 */
public final class EmbeddedInflux implements AutoCloseable {

  private static final long START_TIMEOUT_MS = 20_000;

  private final Process process;
  private final Path dir;
  private final int httpPort;

  private final boolean temporary;

  private EmbeddedInflux(Process process, Path dir, int httpPort, boolean temporary) {
    this.process = process;
    this.dir = dir;
    this.httpPort = httpPort;
    this.temporary = temporary;
  }

  /** The influxd binary on PATH or in /usr/bin, if installed. */
  public static Optional<Path> findBinary() {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String d : (path + File.pathSeparator + "/usr/bin").split(File.pathSeparator)) {
      if (d.isEmpty()) {
        continue;
      }
      Path p = Path.of(d, "influxd");
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  public static boolean isAvailable() {
    return findBinary().isPresent();
  }

  /** Starts influxd and waits until {@code /ping} answers; throws if influxd is not installed. */
  public static EmbeddedInflux start() throws IOException, InterruptedException {
    return start(Files.createTempDirectory("trainwatch-influx-"), true);
  }

  /**
   * As {@link #start()}, with its data in {@code dir}, kept on close (a later start on it finds the
   * data).
   */
  public static EmbeddedInflux start(Path dir) throws IOException, InterruptedException {
    return start(Files.createDirectories(dir), false);
  }

  private static EmbeddedInflux start(Path dir, boolean temporary)
      throws IOException, InterruptedException {
    Path binary =
        findBinary()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "influxd not found on PATH or in /usr/bin: install it with 'apt-get install -y influxdb'"));
    int httpPort = freePort();
    int rpcPort = freePort();
    Path conf = dir.resolve("influxdb.conf");
    Files.writeString(conf, config(dir, httpPort, rpcPort), StandardCharsets.UTF_8);
    Process p =
        new ProcessBuilder(binary.toString(), "run", "-config", conf.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("influxd.log").toFile())
            .start();
    EmbeddedInflux influx = new EmbeddedInflux(p, dir, httpPort, temporary);
    try {
      influx.awaitReady();
    } catch (IOException | RuntimeException | InterruptedException e) {
      influx.close();
      throw e;
    }
    return influx;
  }

  static String config(Path dir, int httpPort, int rpcPort) {
    return String.join(
        "\n",
        "reporting-disabled = true",
        "bind-address = \"127.0.0.1:" + rpcPort + "\"",
        "[meta]",
        "  dir = \"" + dir.resolve("meta") + "\"",
        "[data]",
        "  dir = \"" + dir.resolve("data") + "\"",
        "  wal-dir = \"" + dir.resolve("wal") + "\"",
        "  query-log-enabled = false",
        "[http]",
        "  enabled = true",
        "  bind-address = \"127.0.0.1:" + httpPort + "\"",
        "  log-enabled = false",
        // A GROUP BY time() over a years-wide range would allocate billions of buckets and
        // take the server down; refuse such queries instead.
        "[coordinator]",
        "  max-select-buckets = 1000000",
        "[monitor]",
        "  store-enabled = false",
        "[subscriber]",
        "  enabled = false",
        "[continuous_queries]",
        "  enabled = false",
        "[logging]",
        "  level = \"warn\"",
        "");
  }

  private void awaitReady() throws IOException, InterruptedException {
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("influxd exited with " + process.exitValue() + ": " + log());
      }
      if (ping()) {
        return;
      }
      Thread.sleep(25);
    }
    throw new IOException(
        "influxd did not answer /ping within " + START_TIMEOUT_MS + " ms: " + log());
  }

  /** True when the server answers {@code /ping} with 204. */
  public boolean ping() {
    try {
      HttpURLConnection c =
          (HttpURLConnection) URI.create(url() + "/ping").toURL().openConnection();
      c.setConnectTimeout(500);
      c.setReadTimeout(500);
      try {
        return c.getResponseCode() == 204;
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return false;
    }
  }

  private String log() {
    try {
      String s = Files.readString(dir.resolve("influxd.log"));
      return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
    } catch (IOException e) {
      return "(no log)";
    }
  }

  /** Base URL of the HTTP API, e.g. {@code http://127.0.0.1:40123}. */
  public String url() {
    return "http://127.0.0.1:" + httpPort;
  }

  public int port() {
    return httpPort;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    if (!temporary) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
