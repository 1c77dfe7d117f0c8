package dev.trainwatch.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad settings through the shipped CLI jar, as a user types them: every command fails before any
 * work starts, exits with 2 and names the key (or option) and what is allowed.
 */
class CliBadSettingsIT {

  static final Path JAR = Path.of("target", "trainwatch-jobs.jar");
  static final Path TRACES =
      Path.of(System.getProperty("trainwatch.shared", "../../shared"), "eval", "traces");

  @TempDir Path dir;

  record Outcome(int exit, String stderr) {}

  static Outcome cli(String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                "-jar",
                JAR.toString()));
    cmd.addAll(List.of(args));
    Path err = Files.createTempFile("trainwatch-cli-", ".err");
    Process p =
        new ProcessBuilder(cmd)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(err.toFile())
            .start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        throw new AssertionError(
            "trainwatch "
                + String.join(" ", args)
                + " did not exit within 60 s: "
                + Files.readString(err));
      }
      return new Outcome(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(err);
    }
  }

  private void assertRejected(Outcome o, String... fragments) {
    assertThat(o.exit()).as(o.stderr()).isEqualTo(2);
    assertThat(o.stderr()).contains(fragments).doesNotContain("\tat ");
  }

  @Test
  void evaluateRejectsAnUnknownDetectorKeyAndABadValueBeforeReadingTraces() throws Exception {
    Path out = dir.resolve("alerts.jsonl");
    String t = TRACES.resolve("sc-mlp-p97-lr5e-3-s3.jsonl.gz").toString();
    assertRejected(
        cli(
            "evaluate",
            "--traces",
            t,
            "--alerts-out",
            out.toString(),
            "--set",
            "instability.loss_spike.no_such_key=7"),
        "setting 'instability.loss_spike.no_such_key': unknown key; instability.loss_spike takes z, ratio");
    assertRejected(
        cli(
            "evaluate",
            "--traces",
            t,
            "--alerts-out",
            out.toString(),
            "--set",
            "instability.loss_spike.ratio=abc"),
        "setting 'instability.loss_spike.ratio': expected a number",
        "got 'abc'");
    assertThat(out).doesNotExist();
  }

  @Test
  void replayRejectsBadDetectorSettingsAndABadInfluxUrlBeforeStartingTheBroker() throws Exception {
    String t = TRACES.resolve("sc-mlp-p97-lr5e-3-s3.jsonl.gz").toString();
    String out = dir.resolve("a.jsonl").toString();
    assertRejected(
        cli(
            "replay",
            "--traces",
            t,
            "--alerts-out",
            out,
            "--set",
            "stability_gap.old_task_drop.warn_drop=2"),
        "setting 'stability_gap.old_task_drop.warn_drop': expected a value >= 0 and <= 1, got '2'");
    assertRejected(
        cli("replay", "--traces", t, "--alerts-out", out, "--influx", "localhost:8086"),
        "'influx.url': expected an http:// or https:// URL");
    assertRejected(
        cli("replay", "--traces", t, "--alerts-out", out, "--parallelism", "0"),
        "option '--parallelism': expected a value >= 1, got 0");
  }

  @Test
  void runRejectsUnknownAndBadKeysOfTheJobDetectorsAndStorage() throws Exception {
    Path props = dir.resolve("job.properties");
    Files.writeString(props, "kafka.bootstrap.servers=127.0.0.1:1\n");
    assertRejected(
        cli(
            "run",
            "--config",
            props.toString(),
            "--set",
            "detector.instability.loss_spike.no_such_key=7"),
        "trainwatch run: setting 'detector.instability.loss_spike.no_such_key': unknown key");
    assertRejected(
        cli("run", "--config", props.toString(), "--set", "job.parallelism=abc"),
        "configuration key 'job.parallelism': expected an integer");
    assertRejected(
        cli("run", "--config", props.toString(), "--set", "influx.batch-size=many"),
        "configuration key 'influx.batch-size': expected an integer, got 'many'");
    assertRejected(
        cli("run", "--config", props.toString(), "--set", "job.paralelism=2"),
        "unknown configuration key 'job.paralelism'");
  }

  @Test
  void demoAndBenchRejectBadOptions() throws Exception {
    assertRejected(cli("demo", "--rate", "abc"), "--rate", "abc");
    assertRejected(cli("demo", "--rate", "-5"), "option '--rate': expected a value > 0, got -5.0");
    assertRejected(cli("demo", "--no-such-option"), "Unknown option: '--no-such-option'");
    assertRejected(cli("bench", "--runs", "0"), "option '--runs': expected a value >= 1, got 0");
    assertRejected(cli("bench", "--records", "x"), "--records", "'x'");
    assertRejected(
        cli("bench", "--latency-rates", "40000,0"),
        "option '--latency-rates': expected a value >= 1, got 0");
  }
}
