package dev.trainwatch.jobs.detect.instability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.MetricSink;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Stalled and vanished runs, judged in processing time on an injected clock. */
class RunStalledDetectorTest {

  private final List<AlertEvent> alerts = new ArrayList<>();
  private final RunMonitor m =
      new RunMonitor("r1", DetectorConfig.DEFAULTS, List.of(new RunStalledDetector()));
  private long clock = 1_000_000;

  private void step(long step) {
    m.observe(
        TelemetryRecord.of("r1", step, Metrics.of(Map.of("loss", 1.0))),
        alerts::add,
        MetricSink.NONE,
        clock);
  }

  /** Steps {@code from..to} every {@code everyMs} of processing time. */
  private void steps(long from, long to, long everyMs) {
    for (long s = from; s <= to; s++) {
      clock += everyMs;
      step(s);
    }
  }

  private void advanceTo(long ms) {
    clock = ms;
    m.onProcessingTime(clock, alerts::add);
  }

  @Test
  void aRunSilentPastTheTwoMinuteFloorIsStalledAndResolvesWhenStepsResume() {
    steps(0, 100, 1000);
    long last = clock;
    assertThat(m.nextDeadline()).isEqualTo(last + 120_000); // 4 x 1 s is below the floor
    advanceTo(last + 119_999);
    assertThat(alerts).isEmpty();
    advanceTo(last + 120_000);
    assertThat(alerts)
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.detector()).isEqualTo("run_stalled");
              assertThat(a.severity()).isEqualTo(Severity.WARNING);
              assertThat(a.step()).isEqualTo(100);
              assertThat(a.summary())
                  .isEqualTo(
                      "run stalled: no new step for 2.0 min since step 100 (its steps usually"
                          + " come every 1 s, the longest recent gap was 1 s; stalled means 2.0 min without one)");
              assertThat(a.evidence())
                  .containsEntry("silent_ms", 120_000.0)
                  .containsEntry("threshold_ms", 120_000L);
            });
    assertThat(m.nextDeadline()).isEqualTo(-1); // firing: nothing more is due until a step comes
    advanceTo(last + 600_000);
    assertThat(alerts).hasSize(1); // fires once
    clock = last + 630_000;
    step(101);
    assertThat(alerts).hasSize(2);
    assertThat(alerts.get(1).status()).isEqualTo(Status.RESOLVED);
    assertThat(alerts.get(1).summary())
        .isEqualTo("steps resumed after 10.5 min without one (step 101 after 100)");
    assertThat(m.activeAlerts()).isEmpty();
    // the run came back: a pause it makes is part of its pace now (4 x 630 s, decaying per step)
    assertThat(m.nextDeadline()).isEqualTo(clock + 4 * 630_000);
  }

  @Test
  void theThresholdFollowsTheRunsOwnLongestRecentInterval() {
    // a step a minute: stalled after 4 minutes, not after the 2-minute floor
    steps(0, 30, 60_000);
    long last = clock;
    assertThat(m.nextDeadline()).isEqualTo(last + 240_000);
    advanceTo(last + 200_000);
    assertThat(alerts).isEmpty();
    advanceTo(last + 240_000);
    assertThat(alerts).hasSize(1);
  }

  @Test
  void aPeriodicEvaluationPauseAlarmsOnceNotAtEveryEvaluation() {
    // 1 s steps with a 200 s evaluation every 200 steps: the first pause is news, the next ones
    // are within 4 x the longest recent interval
    for (int cycle = 0; cycle < 5; cycle++) {
      steps(cycle * 200L, cycle * 200L + 199, 1000);
      long last = clock;
      advanceTo(last + 200_000);
      clock = last + 199_000; // the next step comes as the evaluation ends
    }
    assertThat(alerts)
        .filteredOn(a -> a.status() == Status.FIRING)
        .singleElement()
        .satisfies(a -> assertThat(a.step()).isEqualTo(199));
  }

  @Test
  void aRunThatNeverComesBackIsReportedAsStoppedWhenItsStateIsDropped() {
    steps(0, 10, 1000);
    long last = clock;
    advanceTo(last + 120_000);
    m.expire(last + 1_800_000, "run idle for 1800 s; state dropped", alerts::add);
    assertThat(alerts)
        .extracting(AlertEvent::status)
        .containsExactly(Status.FIRING, Status.RESOLVED);
    assertThat(alerts.get(1).summary())
        .isEqualTo(
            "run stopped: no step for 30.0 min after step 10 and no run_end;"
                + " its state is dropped");
    assertThat(alerts.get(1).evidence()).containsEntry("resolved_as", "stopped");
    assertThat(m.activeAlerts()).isEmpty();
  }

  @Test
  void offLineEvaluationHasNoProcessingTimeAndNeverStalls() {
    for (long s = 0; s < 10; s++) {
      m.observe(TelemetryRecord.of("r1", s, Metrics.of(Map.of("loss", 1.0))), alerts::add);
    }
    assertThat(m.nextDeadline()).isEqualTo(-1);
    m.onProcessingTime(Long.MAX_VALUE / 2, alerts::add);
    assertThat(alerts).isEmpty();
  }

  @Test
  void stateRoundTripsWithTheDeadline() throws Exception {
    steps(0, 10, 1000);
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    m.write(new DataOutputStream(b));
    RunMonitor back =
        RunMonitor.read(
            DetectorConfig.DEFAULTS,
            new DataInputStream(new ByteArrayInputStream(b.toByteArray())),
            () -> List.of(new RunStalledDetector()));
    assertThat(back.nextDeadline()).isEqualTo(m.nextDeadline()).isEqualTo(clock + 120_000);
  }
}
