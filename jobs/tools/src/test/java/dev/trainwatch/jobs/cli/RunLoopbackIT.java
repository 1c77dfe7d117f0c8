package dev.trainwatch.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.embedded.EmbeddedKafka;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14 rows 2 and 9 on the user's path, {@code trainwatch run} from the shipped jar as a
 * subprocess: every port its local Flink runtime listens on (REST, RPC, blob, data exchange) is on
 * 127.0.0.1, where Flink's default is every interface (anyone on the network could submit a jar),
 * and its checkpoints land under {@code checkpoint.dir}.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RunLoopbackIT {

  static final Path JAR = Path.of("target", "trainwatch-jobs.jar");

  @TempDir Path dir;

  @Test
  void theLocalRuntimeListensOnLoopbackOnlyAndCheckpointsDurably() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/ss")) || Files.isExecutable(Path.of("/bin/ss")),
        "needs ss (iproute2) to list listening sockets");
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      Path checkpoints = dir.resolve("checkpoints");
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx768m",
                  "--add-opens=java.base/java.util=ALL-UNNAMED",
                  "--add-opens=java.base/java.lang=ALL-UNNAMED",
                  "-jar",
                  JAR.toString(),
                  "run",
                  "--set",
                  "kafka.bootstrap.servers=" + kafka.bootstrapServers(),
                  "--set",
                  "checkpoint.dir=" + checkpoints,
                  "--set",
                  "checkpoint.interval.ms=1000",
                  "--set",
                  "job.parallelism=1",
                  "--set",
                  "job.name=loopback"));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      StringBuilder log = new StringBuilder();
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line; (line = r.readLine()) != null; ) {
                    synchronized (log) {
                      log.append(line).append('\n');
                    }
                  }
                } catch (IOException e) {
                  // process ended
                }
              });
      reader.setDaemon(true);
      reader.start();
      try {
        // running once a checkpoint completed: every server of the runtime is up by then
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline
            && p.isAlive()
            && !hasCompletedCheckpoint(checkpoints)) {
          Thread.sleep(500);
        }
        assertThat(p.isAlive()).as(log.toString()).isTrue();
        assertThat(hasCompletedCheckpoint(checkpoints))
            .as("a checkpoint under checkpoint.dir; log:\n" + log)
            .isTrue();
        List<String> listening = listening(p.pid());
        assertThat(listening)
            .as("listening sockets of trainwatch run")
            .hasSizeGreaterThanOrEqualTo(2)
            .allSatisfy(
                a -> assertThat(a).matches("(127\\.0\\.0\\.1|\\[::ffff:127\\.0\\.0\\.1\\]):\\d+"));
      } finally {
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    }
  }

  /**
   * {@code demo} hosts a broker, a Flink runtime, the sidecar and the alerts service in one JVM:
   * every socket it listens on while it plays the recordings is on 127.0.0.1 (the Kafka test kit it
   * used before bound the broker and controller to every interface).
   */
  @Test
  void theDemoListensOnLoopbackOnly() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/ss")) || Files.isExecutable(Path.of("/bin/ss")),
        "needs ss (iproute2) to list listening sockets");
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx1g",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "-jar",
            JAR.toString(),
            "demo",
            "--rate",
            "300",
            "--notifications",
            dir.resolve("n.jsonl").toString());
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("demo.log").toFile())
            .start();
    Set<String> seen = new TreeSet<>();
    try {
      // sample while it runs: the broker comes first, the sidecar and Flink's servers later
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
      while (System.nanoTime() < deadline && p.isAlive()) {
        seen.addAll(listening(p.pid()));
        Thread.sleep(1000);
      }
    } finally {
      p.destroy();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    String log = Files.readString(dir.resolve("demo.log"));
    // broker + controller + sidecar + Flink (REST, RPC, blob) at the least
    assertThat(seen)
        .as("listening sockets of trainwatch demo; log:\n" + log)
        .hasSizeGreaterThanOrEqualTo(5)
        .allSatisfy(
            a -> assertThat(a).matches("(127\\.0\\.0\\.1|\\[::ffff:127\\.0\\.0\\.1\\]):\\d+"));
  }

  private static boolean hasCompletedCheckpoint(Path checkpoints) throws Exception {
    if (!Files.isDirectory(checkpoints)) {
      return false;
    }
    try (Stream<Path> s = Files.walk(checkpoints, 3)) {
      return s.anyMatch(f -> f.getFileName().toString().equals("_metadata"));
    } catch (UncheckedIOException e) {
      return false; // a checkpoint discarded while listing
    }
  }

  /** Local addresses of the TCP sockets process {@code pid} listens on. */
  private static List<String> listening(long pid) throws Exception {
    Process ss = new ProcessBuilder("ss", "-Hltnp").redirectErrorStream(true).start();
    String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    ss.waitFor(10, TimeUnit.SECONDS);
    List<String> addresses = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.contains("pid=" + pid + ",")) {
        String[] cols = line.trim().split("\\s+");
        addresses.add(cols[3]);
      }
    }
    return addresses;
  }
}
