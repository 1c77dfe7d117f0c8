package dev.trainwatch.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.embedded.PersistentKafka;
import dev.trainwatch.jobs.replay.TopicReader;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryBinary;
import dev.trainwatch.wire.TelemetryRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code trainwatch up} as a PyTorch user runs it: the shipped CLI jar as a subprocess on a fresh
 * data directory, the client pip-installed into a venv with torch 2.x (made by {@code bin/pyenv}),
 * the real example script {@code examples/lr_jump.py} training and posting to the intake. Its alert
 * must reach {@code notifications.jsonl} and the script (which stops on it). Then SIGTERM (exit 0
 * within 30 s), a restart on the same directory, a second run: every record the client had
 * acknowledged is in the telemetry topic exactly once per step, and no notification appears twice.
 */
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class UpCommandIT {

  static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();
  static final Path JAR = Path.of("target", "trainwatch-jobs.jar").toAbsolutePath();
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path work;

  @Test
  void aPyTorchScriptGetsItsAlertAndARestartLosesNoRecordAndRepeatsNoNotification()
      throws Exception {
    String python = venvWithClient();
    Path data = work.resolve("data");
    Map<String, Long> sent = new HashMap<>();

    Up first = Up.start(data, work.resolve("up-1.log"));
    try {
      sent.put("it-run-1", train(python, first.intake, "it-run-1"));
      awaitNotification(data, "it-run-1", first);
      first.stopAndAssertClean();
    } finally {
      first.process.destroyForcibly().waitFor();
    }

    Up second = Up.start(data, work.resolve("up-2.log"));
    try {
      assertThat(Files.readString(second.log)).contains("detection job resumed from");
      sent.put("it-run-2", train(python, second.intake, "it-run-2"));
      awaitNotification(data, "it-run-2", second);
      second.stopAndAssertClean();
    } finally {
      second.process.destroyForcibly().waitFor();
    }

    // every acknowledged record in the topic, once per step (the client counts what the intake
    // accepted)
    try (PersistentKafka kafka = PersistentKafka.start(data.resolve("kafka"))) {
      Map<String, Set<Long>> steps = new HashMap<>();
      Map<String, Long> records = new HashMap<>();
      for (byte[] v :
          TopicReader.readAll(
              kafka.bootstrapServers(), "trainwatch.telemetry", Duration.ofSeconds(20))) {
        TelemetryRecord r = ((ParseResult.Parsed) TelemetryBinary.parseEither(v)).record();
        steps
            .computeIfAbsent(r.run(), k -> new HashSet<>())
            .add(r.step() * 2 + (r.event() == null ? 0 : 1));
        records.merge(r.run(), 1L, Long::sum);
      }
      for (var e : sent.entrySet()) {
        assertThat(records.get(e.getKey()))
            .as("records of " + e.getKey() + " in the topic")
            .isEqualTo(e.getValue());
        assertThat(steps.get(e.getKey()))
            .as("distinct steps of " + e.getKey())
            .hasSize(e.getValue().intValue());
      }
    }
    // no notification twice: each (alert, status) once in the file over both lifetimes
    List<String> seen = new ArrayList<>();
    for (String line : Files.readAllLines(data.resolve("notifications.jsonl"))) {
      for (JsonNode a : JSON.readTree(line).path("alerts")) {
        seen.add(
            a.path("fingerprint").asText()
                + " "
                + a.path("status").asText()
                + " "
                + a.path("labels"));
      }
    }
    assertThat(seen).isNotEmpty().doesNotHaveDuplicates();
  }

  /**
   * A fresh venv that sees the project venv's torch ({@code bin/pyenv --child}), with the client
   * pip-installed.
   */
  private String venvWithClient() throws Exception {
    Path venv = work.resolve("venv");
    Process p =
        new ProcessBuilder(ROOT.resolve("bin/pyenv").toString(), "--child", venv.toString())
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("pyenv.log").toFile())
            .start();
    boolean ok = p.waitFor(20, TimeUnit.MINUTES) && p.exitValue() == 0;
    if (!ok) {
      String why =
          "bin/pyenv could not create the venv with torch: "
              + Files.readString(work.resolve("pyenv.log"));
      if ("true".equals(System.getenv("CI"))) {
        throw new AssertionError(why);
      }
      Assumptions.abort(why);
    }
    String python = venv.resolve("bin/python").toString();
    run(
        work.resolve("pip.log"),
        Duration.ofMinutes(5),
        python,
        "-m",
        "pip",
        "install",
        "-q",
        ROOT.resolve("ingest/python").toString());
    return python;
  }

  /**
   * Runs the example script to the end; returns the records the client had delivered
   * (stats()['sent']).
   */
  private long train(String python, String intake, String run) throws Exception {
    Path log = work.resolve(run + ".log");
    // from the work dir, so `import trainwatch` can only be the pip-installed package
    run(
        log,
        Duration.ofMinutes(4),
        python,
        ROOT.resolve("examples/lr_jump.py").toString(),
        "--url",
        intake,
        "--run",
        run);
    String out = Files.readString(log);
    assertThat(out).as(out).contains("critical alert from trainwatch").contains("'dropped': 0");
    Matcher m = Pattern.compile("'sent': (\\d+)").matcher(out);
    assertThat(m.find()).as(out).isTrue();
    return Long.parseLong(m.group(1));
  }

  private void run(Path log, Duration timeout, String... cmd) throws Exception {
    Process p =
        new ProcessBuilder(cmd)
            .directory(work.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", cmd) + " timed out: " + Files.readString(log));
    }
    assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + Files.readString(log)).isZero();
  }

  /**
   * The script already saw its alert (through the intake's feed); the alerts service delivers it
   * after group_wait.
   */
  private static void awaitNotification(Path data, String run, Up up) throws Exception {
    Path f = data.resolve("notifications.jsonl");
    long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
    while (System.nanoTime() < deadline) {
      // the file receiver writes first; the console tail prints it within its 300 ms poll
      if (Files.exists(f)
          && Files.readString(f).contains("\"run\":\"" + run + "\"")
          && Pattern.compile("NOTIFY firing\\s+\\S+\\s+run=" + Pattern.quote(run) + " ")
              .matcher(Files.readString(up.log))
              .find()) {
        return;
      }
      Thread.sleep(500);
    }
    String log = Files.readString(up.log);
    throw new AssertionError(
        "no notification for "
            + run
            + " in "
            + f
            + "; trainwatch up said: "
            + log.substring(Math.max(0, log.length() - 6000)));
  }

  /** One {@code trainwatch up} process. */
  record Up(Process process, Path log, String intake) {

    static Up start(Path data, Path log) throws Exception {
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx1g",
                  "--add-opens=java.base/java.util=ALL-UNNAMED",
                  "--add-opens=java.base/java.lang=ALL-UNNAMED",
                  "-jar",
                  JAR.toString(),
                  "up",
                  "--data-dir",
                  data.toString(),
                  "--http-port",
                  "0",
                  "--influx",
                  "none",
                  "--status-interval",
                  "2")
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
      Pattern ready = Pattern.compile("ready .*intake (http://127\\.0\\.0\\.1:\\d+)/v1/records");
      while (System.nanoTime() < deadline) {
        Matcher m = ready.matcher(Files.readString(log));
        if (m.find()) {
          return new Up(p, log, m.group(1));
        }
        if (!p.isAlive()) {
          throw new AssertionError(
              "trainwatch up exited with " + p.exitValue() + ": " + Files.readString(log));
        }
        Thread.sleep(500);
      }
      p.destroyForcibly();
      throw new AssertionError(
          "trainwatch up printed no ready line within 180 s: " + Files.readString(log));
    }

    /** SIGTERM: exit 0 within 30 s after a final savepoint. */
    void stopAndAssertClean() throws Exception {
      String before = Files.readString(log);
      assertThat(before).contains("status: ").contains("NOTIFY firing").contains("remedy: ");
      process.destroy(); // SIGTERM
      boolean exited = process.waitFor(30, TimeUnit.SECONDS);
      String out = Files.readString(log);
      if (!exited) {
        process.destroyForcibly();
      }
      assertThat(exited).as("exit within 30 s of SIGTERM: " + out).isTrue();
      assertThat(process.exitValue()).as(out).isZero();
      assertThat(out).contains("job state saved in");
    }
  }
}
