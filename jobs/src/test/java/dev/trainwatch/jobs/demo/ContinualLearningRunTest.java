package dev.trainwatch.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.wire.TelemetryRecord;
import org.junit.jupiter.api.Test;

class ContinualLearningRunTest {

  private static final int SWITCH = DemoScenario.CONTINUAL.stepsPerTask();

  private static Trace train() {
    return Trace.of(
        new ContinualLearningRun("run", "kind", DemoScenario.CONTINUAL, DemoScenario.DEFAULT_SEED, Trace.FIXED_CLOCK));
  }

  @Test
  void firstTaskAccuracyDropsRightAfterTheSwitchAndPartlyRecovers() {
    double[] acc = train().series("eval/acc/t0");

    double before = Trace.mean(acc, SWITCH - 5, SWITCH);
    double trough = Trace.min(acc, SWITCH, SWITCH + 20);
    double after = Trace.mean(acc, SWITCH + 20, SWITCH + 60);
    assertThat(before - trough).isGreaterThanOrEqualTo(0.2);
    assertThat(after - trough).isGreaterThanOrEqualTo(0.1);
    assertThat(after).isLessThan(before); // partly, not fully
  }

  @Test
  void recordsCarryTheTaskAndMarkEverySwitch() {
    Trace t = train();

    for (TelemetryRecord r : t.records()) {
      assertThat(r.task()).isEqualTo("t" + r.step() / SWITCH);
      boolean isSwitch = r.step() > 0 && r.step() % SWITCH == 0;
      assertThat(r.isEvent(TelemetryRecord.TASK_START)).isEqualTo(isSwitch);
      assertThat(r.metrics().has("eval/acc/t1")).isEqualTo(r.step() >= SWITCH);
    }
    assertThat(t.records()).hasSize(4 * SWITCH);
  }
}
