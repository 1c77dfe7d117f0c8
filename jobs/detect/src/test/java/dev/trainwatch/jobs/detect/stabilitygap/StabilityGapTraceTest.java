package dev.trainwatch.jobs.detect.stabilitygap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.jobs.detect.Detector;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import dev.trainwatch.wire.TraceFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The detector on the recorded class-incremental runs of shared/eval/traces. */
class StabilityGapTraceTest {

  private static final Path TRACES =
      Path.of(System.getProperty("trainwatch.shared", "../../shared"), "eval", "traces");

  private static List<TelemetryRecord> load(String run) {
    Path file = TRACES.resolve(run + ".jsonl.gz");
    assumeTrue(Files.exists(file), "traces not available: " + file);
    List<TelemetryRecord> out = new ArrayList<>();
    TraceFiles.forEachLine(
        file,
        line -> {
          if (TelemetryParser.DEFAULT.parse(line) instanceof ParseResult.Parsed p) {
            out.add(p.record());
          }
        });
    return out;
  }

  private static List<AlertEvent> replay(OldTaskDropDetector d, List<TelemetryRecord> records) {
    List<AlertEvent> alerts = new ArrayList<>();
    RunMonitor m =
        new RunMonitor(records.get(0).run(), DetectorConfig.DEFAULTS, List.<Detector>of(d));
    records.forEach(r -> m.observe(r, alerts::add));
    return alerts;
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"cl-digits-ci-replay-s0", "cl-digits-ci-replay-s1", "cl-digits-ci-replay-lr05-s2"})
  void alertsEveryLabelledGapBetweenTheSwitchAndTheMinimumAndResolvesThemAll(String run)
      throws IOException {
    List<AlertEvent> alerts = replay(new OldTaskDropDetector(), load(run));
    JsonNode labels = new ObjectMapper().readTree(TRACES.resolve("labels.json").toFile());
    int gaps = 0;
    for (JsonNode r : labels.get("runs")) {
      if (!r.get("run").asText().equals(run)) {
        continue;
      }
      for (JsonNode g : r.get("gaps")) {
        long from = g.get("task_switch_step").asLong();
        long to = g.get("min_step").asLong();
        String task = g.get("affected").asText();
        assertThat(alerts)
            .as("gap of %s after the switch at %d", task, from)
            .anyMatch(
                a ->
                    a.status() == Status.FIRING
                        && task.equals(a.affectedTask())
                        && a.step() >= from
                        && a.step() <= to);
        gaps++;
      }
    }
    assertThat(gaps).isPositive();
    long fired =
        alerts.stream()
            .filter(a -> a.status() == Status.FIRING && a.severity().ordinal() == 0)
            .count();
    long opened = alerts.stream().filter(a -> a.status() == Status.RESOLVED).count();
    assertThat(
            alerts.stream()
                .filter(a -> a.status() == Status.FIRING)
                .map(a -> a.fingerprint() + a.step()))
        .doesNotHaveDuplicates();
    assertThat(opened)
        .as("one resolution per alert, none left firing")
        .isEqualTo(
            alerts.stream()
                .filter(a -> a.status() == Status.FIRING)
                .map(a -> a.fingerprint() + "@" + a.evidence().get("switch_step"))
                .distinct()
                .count());
    assertThat(fired).isLessThanOrEqualTo(gaps + 1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"cl-digits-ci-replay-s0"})
  void noAlertForTheEarlierTaskWhoseDipStaysUnderTenPoints(String run) {
    // labels: at the switch to t3 (step 900) t1 only dips 0.07: listed in all_switch_pairs, not in
    // gaps
    List<AlertEvent> alerts = replay(new OldTaskDropDetector(), load(run));
    assertThat(alerts)
        .noneMatch(
            a ->
                "t1".equals(a.affectedTask())
                    && Long.valueOf(900L).equals(a.evidence().get("switch_step")));
  }

  @ParameterizedTest
  @ValueSource(longs = {305, 610, 1203})
  void restoredStateGivesTheSameAlertsAsAnUninterruptedRun(long cut) throws IOException {
    List<TelemetryRecord> records = load("cl-digits-ci-replay-s0");
    List<AlertEvent> reference = replay(new OldTaskDropDetector(), records);

    OldTaskDropDetector first = new OldTaskDropDetector();
    List<AlertEvent> alerts = new ArrayList<>();
    RunMonitor before =
        new RunMonitor("cl-digits-ci-replay-s0", DetectorConfig.DEFAULTS, List.<Detector>of(first));
    records.stream().filter(r -> r.step() < cut).forEach(r -> before.observe(r, alerts::add));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    first.writeState(new DataOutputStream(bytes));
    assertThat(bytes.size()).isLessThan(2048);

    OldTaskDropDetector restored = new OldTaskDropDetector();
    restored.readState(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
    RunMonitor after =
        new RunMonitor(
            "cl-digits-ci-replay-s0", DetectorConfig.DEFAULTS, List.<Detector>of(restored));
    records.stream().filter(r -> r.step() >= cut).forEach(r -> after.observe(r, alerts::add));

    // only the detector's state is restored here, not the monitor's context with the run's tags
    assertThat(alerts)
        .usingRecursiveFieldByFieldElementComparatorIgnoringFields("tags")
        .isEqualTo(reference);
    assertThat(restored.snapshot()).isEqualTo(replaySnapshot(records));
  }

  private static ContinualMetrics replaySnapshot(List<TelemetryRecord> records) {
    OldTaskDropDetector d = new OldTaskDropDetector();
    replay(d, records);
    return d.snapshot();
  }
}
