package dev.trainwatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.ingest.config.IngestConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the Python client's unittest suite (plain and, where installed, with torch) against the real
 * sidecar and Kafka: once with the sidecar in this JVM, once as the shaded jar.
 */
@Timeout(300)
class PythonClientIT {

  private static final Path PYTHON_DIR =
      Path.of(System.getProperty("trainwatch.ingest.python", "python"));
  private static final int RECORDS = 300;
  private static EmbeddedKafka kafka;
  @TempDir Path spool;

  @BeforeAll
  static void startKafka() throws Exception {
    kafka = EmbeddedKafka.start();
    KafkaFixture.createTopics(kafka);
  }

  @AfterAll
  static void stopKafka() throws Exception {
    kafka.close();
  }

  static List<String> interpreters() {
    return PythonEnv.interpreters();
  }

  @Test
  void pythonSuitePassesAgainstTheInProcessSidecar() throws Exception {
    try (Ingest ingest =
        Ingest.start(
            IngestConfig.of(
                Map.of(
                    "http.port",
                    "0",
                    "spool.dir",
                    spool.toString(),
                    "kafka.bootstrap.servers",
                    kafka.bootstrapServers())),
            null)) {
      int i = 0;
      for (String python : interpreters()) {
        String run = "py-inproc-" + i++;
        assertThat(runPython(python, ingest.httpUrl(), run, "test*.py")).as(python).isEqualTo(0);
        assertRecordsInKafka(run);
      }
    }
  }

  @Test
  void pythonClientTalksToTheShadedJar() throws Exception {
    Process p = startJar(kafka.bootstrapServers(), spool, List.of());
    try {
      String url = awaitUrl(p);
      assertThat(url).as("the jar printed its URL").isNotNull();
      assertThat(runPython("python3", url, "py-jar", "test_sidecar.py")).isEqualTo(0);
      assertRecordsInKafka("py-jar");
    } finally {
      p.destroy(); // SIGTERM: the shutdown hook flushes
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  /** The shaded sidecar jar in a JVM of its own, on any free port; {@code extra}: more options. */
  static Process startJar(String bootstrap, Path spool, List<String> extra) throws IOException {
    Path jar = Path.of(System.getProperty("trainwatch.ingest.jar", "target/trainwatch-ingest.jar"));
    assertThat(jar).exists();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                jar.toString(),
                "--http-port",
                "0",
                "--bootstrap-servers",
                bootstrap,
                "--spool-dir",
                spool.toString()));
    cmd.addAll(extra);
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  /** The URL the sidecar process prints once it listens; its output is drained afterwards. */
  static String awaitUrl(Process p) throws Exception {
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> url =
        CompletableFuture.supplyAsync(
            () -> {
              Pattern pat = Pattern.compile("listening on (http://\\S+)");
              try {
                String line;
                while ((line = r.readLine()) != null) {
                  Matcher m = pat.matcher(line);
                  if (m.find()) {
                    String found = m.group(1);
                    Thread drain =
                        new Thread(
                            () -> { // keep the pipe from filling up
                              try {
                                while (r.readLine() != null) {
                                  // discard
                                }
                              } catch (IOException ignored) {
                                // process ended
                              }
                            });
                    drain.setDaemon(true);
                    drain.start();
                    return found;
                  }
                }
              } catch (IOException e) {
                return null;
              }
              return null;
            });
    return url.get(60, TimeUnit.SECONDS);
  }

  private int runPython(String python, String url, String run, String pattern) throws Exception {
    Path log = Files.createTempFile(spool, "python-", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(
                python,
                "-m",
                "unittest",
                "discover",
                "-s",
                PYTHON_DIR.resolve("tests").toString(),
                "-p",
                pattern,
                "-v")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("TRAINWATCH_SIDECAR_URL", url);
    pb.environment().put("TRAINWATCH_TEST_RUN", run);
    pb.environment().put("TRAINWATCH_TEST_RECORDS", String.valueOf(RECORDS));
    Process p = pb.start();
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("python tests timed out:\n" + Files.readString(log));
    }
    String out = Files.readString(log);
    System.out.println(python + ":\n" + out);
    if (p.exitValue() != 0) {
      throw new AssertionError(python + " unittest failed:\n" + out);
    }
    assertThat(out)
        .contains("test_records_reach_the_sidecar")
        .doesNotContain("TRAINWATCH_SIDECAR_URL not set");
    return p.exitValue();
  }

  private static void assertRecordsInKafka(String run) {
    var recs =
        KafkaFixture.readUntil(
            kafka.bootstrapServers(),
            KafkaFixture.TELEMETRY,
            l -> l.stream().filter(r -> run.equals(r.key())).count() >= RECORDS,
            Duration.ofSeconds(30));
    assertThat(recs.stream().filter(r -> run.equals(r.key()))).hasSize(RECORDS);
  }
}
