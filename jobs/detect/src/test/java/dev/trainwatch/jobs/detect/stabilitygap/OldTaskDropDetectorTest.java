package dev.trainwatch.jobs.detect.stabilitygap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.Tags;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/** Synthetic continual-learning runs: task t0 for 100 steps, then t1. */
class OldTaskDropDetectorTest {

  private final OldTaskDropDetector detector = new OldTaskDropDetector();
  private final RunMonitor monitor =
      new RunMonitor("cl", DetectorConfig.DEFAULTS, List.of(detector));
  private final List<AlertEvent> alerts = new ArrayList<>();

  private void feed(long step, String task, Object... evals) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss", 0.1);
    for (int i = 0; i < evals.length; i += 2) {
      m.put("eval/acc/" + evals[i], ((Number) evals[i + 1]).doubleValue());
    }
    String event = step == 0 || step == 100 ? TelemetryRecord.TASK_START : null;
    monitor.observe(
        new TelemetryRecord("cl", step, -1, task, event, Metrics.of(m), Tags.EMPTY, null),
        alerts::add);
  }

  /** t0 learned to ~0.95 with a +-1 point wobble over steps 0..99. */
  private void learnT0() {
    for (int s = 0; s < 100; s++) {
      feed(s, "t0", "t0", s < 10 ? 0.1 * s : 0.95 + (s % 2 == 0 ? 0.01 : -0.01));
    }
  }

  private List<AlertEvent> firing() {
    return alerts.stream().filter(a -> a.status() == Status.FIRING).toList();
  }

  @Test
  void firesForTheEarlierTaskWhenItsAccuracyDropsAfterASwitchAndResolvesOnRecovery() {
    learnT0();
    double[] t0 = {0.94, 0.90, 0.84, 0.75, 0.60, 0.50, 0.52, 0.60, 0.75, 0.85};
    for (int s = 100; s < 200; s++) {
      double acc = s - 100 < t0.length ? t0[s - 100] : 0.94;
      feed(s, "t1", "t0", acc, "t1", Math.min(0.95, 0.1 * (s - 100)));
    }
    assertThat(firing())
        .extracting(AlertEvent::severity, AlertEvent::step, AlertEvent::affectedTask)
        .containsExactly(
            Tuple.tuple(Severity.WARNING, 102L, "t0"), Tuple.tuple(Severity.CRITICAL, 104L, "t0"));
    AlertEvent resolved = alerts.get(alerts.size() - 1);
    assertThat(resolved.status()).isEqualTo(Status.RESOLVED);
    assertThat(resolved.affectedTask()).isEqualTo("t0");
    assertThat(resolved.evidence())
        .containsEntry("recovered", true)
        .containsEntry("min_step", 105L)
        .containsEntry("steps_to_min", 5L)
        .containsEntry("steps_to_recovery", 10L)
        .containsKeys("wc_acc", "wf10", "wf100", "wp10", "wp100", "min_acc/t0");
    assertThat((double) resolved.evidence().get("depth")).isCloseTo(0.45, within(0.01));
    assertThat(resolved.step()).isEqualTo(130L); // recovered at 110, held for recover_steps = 20
  }

  @Test
  void staysQuietOnATwoPointWobbleAfterASwitch() {
    learnT0();
    for (int s = 100; s < 400; s++) {
      feed(s, "t1", "t0", 0.95 - 0.02 * ((s * 7) % 3), "t1", Math.min(0.95, 0.05 * (s - 100)));
    }
    assertThat(alerts).isEmpty();
  }

  @Test
  void detectsTheGapWhenEvaluationsComeAtAnIrregularCadence() {
    long step = 0;
    int i = 0;
    while (step < 100) {
      feed(step, "t0", "t0", 0.95);
      step += (i++ % 2 == 0) ? 7 : 13;
    }
    for (long s = step; s < 400; s += (i++ % 2 == 0) ? 7 : 13) {
      double acc = s < 130 ? 0.55 : 0.93;
      feed(s, "t1", "t0", acc);
    }
    assertThat(firing()).hasSize(1);
    assertThat(firing().get(0).affectedTask()).isEqualTo("t0");
    assertThat(alerts.get(alerts.size() - 1).status()).isEqualTo(Status.RESOLVED);
  }

  @Test
  void watchesOnlyTasksTrainedBeforeNotTasksEvaluatedAheadOfTheirTurn() {
    for (int s = 0; s < 100; s++) {
      feed(s, "t0", "t0", 0.95, "t2", 0.30); // t2 untrained, evaluated ahead of its turn
    }
    for (int s = 100; s < 200; s++) {
      feed(s, "t1", "t0", 0.94, "t2", 0.15);
    }
    assertThat(alerts).isEmpty();
  }

  @Test
  void ignoresNonFiniteAndAbsentAccuraciesWithoutThrowing() {
    learnT0();
    feed(100, "t1", "t0", Double.NaN);
    feed(101, "t1", "t0", Double.POSITIVE_INFINITY);
    feed(102, "t1", "t0", -0.5);
    feed(103, "t1");
    monitor.observe(TelemetryRecord.of("cl", 104, Metrics.EMPTY), alerts::add);
    assertThat(alerts).isEmpty();
    assertThat(monitor.detectorFailures()).isZero();
    feed(105, "t1", "t0", 0.5);
    assertThat(firing()).hasSize(1);
  }

  @Test
  void readsPercentAccuraciesAsFractions() {
    for (int s = 0; s < 100; s++) {
      feed(s, "t0", "t0", 95.0);
    }
    feed(100, "t1", "t0", 94.0);
    assertThat(alerts).isEmpty();
    feed(101, "t1", "t0", 60.0);
    assertThat(firing())
        .singleElement()
        .extracting(AlertEvent::severity)
        .isEqualTo(Severity.CRITICAL);
  }

  @Test
  void computesTheContinualEvaluationMetricsByTheirDefinitions() {
    feed(0, "t0", "t0", 0.2);
    feed(1, "t0", "t0", 0.6);
    feed(2, "t0", "t0", 0.9);
    feed(100, "t1", "t0", 0.5, "t1", 0.1);
    feed(101, "t1", "t0", 0.8, "t1", 0.4);
    ContinualMetrics m = detector.snapshot();
    assertThat(m.currentTask()).isEqualTo("t1");
    assertThat(m.minAcc()).containsOnlyKeys("t0");
    assertThat(m.minAcc().get("t0")).isCloseTo(0.5, within(1e-4));
    assertThat(m.wcAcc()).isCloseTo(0.4 / 2 + 0.5 / 2, within(1e-4)); // k = 2
    assertThat(m.wf10()).isCloseTo(0.4, within(1e-4)); // 0.9 -> 0.5
    assertThat(m.wf100()).isCloseTo(0.4, within(1e-4));
    assertThat(m.wp10()).isCloseTo((0.7 + 0.3) / 2, within(1e-4)); // t0 0.2 -> 0.9, t1 0.1 -> 0.4
    assertThat(m.wp100()).isCloseTo(0.5, within(1e-4));
  }

  @Test
  void windowedForgettingForgetsDropsOlderThanTheWindow() {
    feed(0, "t0", "t0", 0.9);
    feed(1, "t0", "t0", 0.9);
    feed(2, "t1", "t0", 0.85);
    for (int s = 3; s < 30; s++) {
      feed(s, "t1", "t0", 0.85 - 0.01 * (s - 2)); // slow decline: 0.01 per eval
    }
    ContinualMetrics m = detector.snapshot();
    assertThat(m.wf10()).isCloseTo(0.9 - 0.77, within(1e-3)); // 0.9 at step 1 vs 0.77 at step 10
    assertThat(m.wf100()).isCloseTo(0.9 - 0.58, within(1e-3)); // the whole decline
  }

  @Test
  void stateStaysWellUnder8KilobytesWithTenTasksOfFullWindows() throws IOException {
    for (int task = 0; task < 10; task++) {
      for (int s = 0; s < 150; s++) {
        Object[] evals = new Object[2 * (task + 1)];
        for (int u = 0; u <= task; u++) {
          evals[2 * u] = "task" + u;
          evals[2 * u + 1] = 0.5 + 0.4 * Math.sin(s + u);
        }
        feed(task * 150L + s, "task" + task, evals);
      }
    }
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    detector.writeState(new DataOutputStream(b));
    assertThat(b.size()).isLessThan(2600); // 10 x (100 x 2 B ring + ~60 B), see TaskTrack
  }
}
