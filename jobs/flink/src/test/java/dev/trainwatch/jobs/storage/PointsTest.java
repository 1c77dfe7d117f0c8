package dev.trainwatch.jobs.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.Tags;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PointsTest {

  private static final long T0 = 1_795_515_485_075L;

  private static TelemetryRecord record(long step, long timeMs, Map<String, Double> metrics) {
    return new TelemetryRecord(
        "run-a", step, timeMs, "t0", null, Metrics.of(metrics), Tags.EMPTY, null);
  }

  @Test
  void sameRecordMapsToTheSameLineSoReplaysOverwrite() {
    TelemetryRecord r = record(12, T0, Map.of("loss", 0.5));
    assertThat(Points.telemetry(r)).isEqualTo(Points.telemetry(r));
  }

  @Test
  void stepsEndingInTheSameMillisecondGetDistinctTimestamps() {
    assertThat(PointTime.nanos(T0, 1)).isNotEqualTo(PointTime.nanos(T0, 2));
    assertThat(PointTime.nanos(T0, 1) / 1_000_000).isEqualTo(T0);
  }

  @Test
  void stepOnlyRecordsAreOneMillisecondPerStepAfterTheStepEpoch() {
    assertThat(PointTime.nanos(-1, 7)).isEqualTo((PointTime.STEP_EPOCH_MS + 7) * 1_000_000);
  }

  @Test
  void runAndTaskAreTagsAndMetricsAreFields() {
    String line = Points.telemetry(record(3, T0, Map.of("loss", 0.25))).get(0).line();
    assertThat(line).startsWith("telemetry,run=run-a,task=t0 ");
    assertThat(line).contains("loss=0.25").contains("step=3i");
    assertThat(line).endsWith(" " + (T0 * 1_000_000 + 3));
  }

  @Test
  void nonFiniteMetricsAreSkippedAndFlaggedNotWritten() {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss", Double.NaN);
    m.put("grad_norm", Double.POSITIVE_INFINITY);
    m.put("lr", 0.1);
    String line = Points.telemetry(record(4, T0, m)).get(0).line();
    assertThat(line)
        .contains("loss/nonfinite=true")
        .contains("grad_norm/nonfinite=true")
        .contains("nonfinite=2i")
        .contains("lr=0.1")
        .doesNotContain("NaN")
        .doesNotContain("Infinity");
  }

  @Test
  void runTagsGoToRunInfoAsFieldsNotTags() {
    TelemetryRecord r =
        new TelemetryRecord(
            "run-a",
            0,
            T0,
            null,
            "run_start",
            Metrics.EMPTY,
            Tags.of(Map.of("dtype", "float32")),
            null);
    List<InfluxLine> lines = Points.telemetry(r);
    assertThat(lines).hasSize(2);
    assertThat(lines.get(1).line()).startsWith("run_info,run=run-a ").contains("dtype=\"float32\"");
  }

  @Test
  void alertPointCarriesLabelsAsTagsAndFiringFlag() {
    AlertEvent a =
        AlertEvent.firing(
            "run-a",
            Family.STABILITY_GAP,
            "acc-drop",
            Severity.WARNING,
            310,
            T0,
            "t0 accuracy dropped",
            null,
            Map.of("acc", 0.41, "why", "text"),
            "t0");
    String line = Points.alert(a).line();
    assertThat(line)
        .startsWith("alerts,")
        .contains("family=stability_gap")
        .contains("affected_task=t0")
        .contains("status=firing")
        .contains("firing=1i")
        .contains("step=310i")
        .contains("evidence/acc=0.41")
        .doesNotContain("why");
    assertThat(Points.alert(a.resolve(360, T0 + 50, "recovered", Map.of())).line())
        .contains("status=resolved")
        .contains("firing=0i");
  }

  @Test
  void detectorMetricIsAFieldOfItsDetectorsPoint() {
    String line =
        Points.detector(new DetectorMetric("run-a", 9, T0, "softmax", "margin_p50", 3.5)).line();
    assertThat(line).startsWith("detector,detector=softmax,run=run-a ").contains("margin_p50=3.5");
  }
}
