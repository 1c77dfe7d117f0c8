package dev.trainwatch.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.OfflineEvaluation;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/**
 * The demo's recordings (real PyTorch runs recorded by {@code examples/record_demo.py} with the
 * Python client) are valid telemetry, cover every family, and the detectors find in them what their
 * labels.json says is there, scored with the rules of {@code shared/eval/score.py}.
 */
class DemoRecordingTest {

  static final Path RECORDINGS = Path.of("src", "main", "resources", "demo");

  private static List<TelemetryRecord> parse(DemoRecording r) {
    List<TelemetryRecord> out = new ArrayList<>();
    for (String line : r.lines()) {
      ParseResult p = TelemetryParser.DEFAULT.parse(line.getBytes(StandardCharsets.UTF_8));
      assertThat(p).as(r.run() + ": " + line).isInstanceOf(ParseResult.Parsed.class);
      out.add(((ParseResult.Parsed) p).record());
    }
    return out;
  }

  @Test
  void sixRunsCoverEveryFamilyWithUniqueNames() {
    List<DemoRecording> runs = DemoRecording.standard();

    assertThat(runs)
        .extracting(DemoRecording::kind)
        .containsExactly(
            "softmax_collapse", "healthy", "divergence", "healthy", "divergence", "stability_gap");
    assertThat(runs).extracting(DemoRecording::run).doesNotHaveDuplicates();
    assertThat(runs)
        .extracting(DemoRecording::steps)
        .containsExactly(1000, 1000, 600, 600, 600, 600);
  }

  @Test
  void everyRecordIsValidTelemetryOfItsRunInStepOrderFromRunStartToRunEnd() {
    for (DemoRecording r : DemoRecording.standard()) {
      List<TelemetryRecord> records = parse(r);
      for (int i = 0; i < records.size(); i++) {
        assertThat(records.get(i).run()).isEqualTo(r.run());
        assertThat(records.get(i).step()).isEqualTo(i);
      }
      TelemetryRecord first = records.get(0);
      assertThat(first.event()).isEqualTo(TelemetryRecord.RUN_START);
      assertThat(first.tags().get("dtype"))
          .isEqualTo("float32"); // the client puts its tags on the first record
      assertThat(records.get(records.size() - 1).event()).isEqualTo(TelemetryRecord.RUN_END);
      assertThat(records.get(1).metrics().get("loss")).isFinite();
      assertThat(records.get(1).metrics().get("grad_norm")).isPositive();
    }
  }

  @Test
  void theContinualRunSwitchesTaskEvery150StepsAndReportsEveryTaskSeen() {
    DemoRecording cl =
        DemoRecording.standard().stream()
            .filter(r -> r.kind().equals("stability_gap"))
            .findFirst()
            .orElseThrow();
    List<TelemetryRecord> records = parse(cl);

    assertThat(records)
        .filteredOn(r -> TelemetryRecord.TASK_START.equals(r.event()))
        .extracting(TelemetryRecord::step, TelemetryRecord::task)
        .containsExactly(Tuple.tuple(150L, "t1"), Tuple.tuple(300L, "t2"), Tuple.tuple(450L, "t3"));
    assertThat(records.get(449).metrics().get("eval/acc/t2")).isBetween(0.0, 1.0);
    assertThat(Double.isNaN(records.get(449).metrics().get("eval/acc/t3"))).isTrue();
  }

  @Test
  void theCollapseRunSaturatesInFloat32AndItsWeightDecayTwinNeverDoes() {
    List<DemoRecording> runs = DemoRecording.standard();
    double collapse =
        parse(runs.get(0)).stream()
            .mapToDouble(r -> r.metrics().get("logits/absorbed_frac"))
            .filter(Double::isFinite)
            .max()
            .orElseThrow();
    double twin =
        parse(runs.get(1)).stream()
            .mapToDouble(r -> r.metrics().get("logits/absorbed_frac"))
            .filter(Double::isFinite)
            .max()
            .orElseThrow();

    assertThat(collapse).isGreaterThan(0.5);
    assertThat(twin).isZero();
  }

  @Test
  void playingChangesOnlyTheTimeOfARecord() throws Exception {
    DemoRecording r = DemoRecording.standard().get(0);
    String line = r.lines().get(0); // run_start, tags, metrics and a logits sample
    TelemetryRecord recorded = parse(new DemoRecording(r.run(), r.kind(), List.of(line))).get(0);
    TelemetryRecord played =
        parse(
                new DemoRecording(
                    r.run(), r.kind(), List.of(SidecarPlayer.playedAt(line, 1_800_000_000_000L))))
            .get(0);

    assertThat(recorded.logits()).isNotNull();
    assertThat(played.timeMs()).isEqualTo(1_800_000_000_000L);
    assertThat(played).usingRecursiveComparison().ignoringFields("timeMs").isEqualTo(recorded);
  }

  /**
   * The detectors on the recordings, scored as score.py does against labels.json: a collapse or a
   * divergence is caught when its family fires at or before the labelled onset, each labelled gap
   * when a stability_gap alert for the affected task fires between the switch and the accuracy
   * minimum, and a healthy run must raise nothing at all.
   */
  @Test
  void theDetectorsFindWhatTheLabelsSayAndNothingOnTheHealthyRuns() throws Exception {
    JsonNode labels = new ObjectMapper().readTree(RECORDINGS.resolve("labels.json").toFile());
    Map<String, List<AlertEvent>> firing =
        OfflineEvaluation.run(List.of(RECORDINGS), DetectorConfig.DEFAULTS).alerts().stream()
            .filter(a -> a.status() == Status.FIRING)
            .collect(Collectors.groupingBy(AlertEvent::run));

    int gaps = 0;
    for (JsonNode run : labels.get("runs")) {
      List<AlertEvent> alerts = firing.getOrDefault(run.get("run").asText(), List.of());
      String kind = run.get("kind").asText();
      switch (kind) {
        case "healthy" -> assertThat(alerts).as(run.get("run").asText()).isEmpty();
        case "softmax_collapse", "divergence" -> {
          String family = kind.equals("divergence") ? "instability" : "softmax_collapse";
          long onset = run.get("onset_step").asLong();
          assertThat(alerts)
              .as(run.get("run").asText())
              .anyMatch(a -> a.family().wire().equals(family) && a.step() <= onset);
        }
        case "stability_gap" -> {
          for (JsonNode gap : run.get("gaps")) {
            gaps++;
            long from = gap.get("task_switch_step").asLong();
            long to = gap.get("min_step").asLong();
            String affected = gap.get("affected").asText();
            assertThat(alerts)
                .as(run.get("run").asText() + " gap of " + affected + " after " + from)
                .anyMatch(
                    a ->
                        a.family().wire().equals("stability_gap")
                            && affected.equals(a.affectedTask())
                            && a.step() >= from
                            && a.step() <= to);
          }
        }
        default -> throw new AssertionError("unexpected kind " + kind);
      }
    }
    assertThat(gaps).isEqualTo(5); // t0 after 150; t0, t1 after 300; t0, t2 after 450
  }
}
