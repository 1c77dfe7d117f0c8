package dev.trainwatch.jobs.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.OfflineEvaluation;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.TraceFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real path end to end: embedded KRaft Kafka, the detection job on a Flink MiniCluster at
 * parallelism 2, exactly-once alerts read back read_committed.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ReplayIT {

  static final Path TRACES =
      Path.of(System.getProperty("trainwatch.shared", "../../shared"), "eval", "traces");

  @TempDir Path dir;

  /** Copies public traces, injecting a malformed line into the middle of the first one. */
  private List<Path> tracesWithOneMalformedLine(String... names) throws IOException {
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      List<String> lines = new ArrayList<>();
      TraceFiles.forEachLine(TRACES.resolve(names[i]), lines::add);
      if (i == 0) {
        lines.add(lines.size() / 2, "{\"run\":\"" + names[0] + "\",\"step\":\"oops\"}");
      }
      Path p = dir.resolve(names[i]);
      try (var out2 = new GZIPOutputStream(Files.newOutputStream(p))) {
        out2.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
      }
      out.add(p);
    }
    return out;
  }

  @Test
  void replayThroughKafkaAndFlinkMatchesTheReferenceAndDeadLettersBadLines() throws Exception {
    List<Path> traces =
        tracesWithOneMalformedLine(
            "sc-mlp-p97-lr5e-3-s3.jsonl.gz", "lm-char-py-d128-w900-lr1.5e-1-s6.jsonl.gz",
            "cl-digits-ci-replay-s1.jsonl.gz", "mlp-digits-sgdr-s0.jsonl.gz");

    Replay.Result real = Replay.run(traces, 2, Map.of());
    OfflineEvaluation.Result reference = OfflineEvaluation.run(traces, DetectorConfig.DEFAULTS);

    assertThat(real.recordsSent()).isEqualTo(reference.records() + 1);
    assertThat(real.deadLetters())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.reason())
                  .isEqualTo("field 'step': expected an integer >= 0, got \"oops\"");
              assertThat(d.run()).isEqualTo("sc-mlp-p97-lr5e-3-s3.jsonl.gz");
              assertThat(d.origin()).startsWith("trainwatch.telemetry-");
            });
    // Exactly-once: the same alerts as the in-process reference, none lost, none duplicated.
    assertThat(real.alerts().stream().map(AlertJson::toJson).sorted().toList())
        .isEqualTo(reference.alerts().stream().map(AlertJson::toJson).sorted().toList());
  }
}
