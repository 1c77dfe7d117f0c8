package dev.trainwatch.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainwatch.wire.TelemetryRecord;
import java.util.Map;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class TrainingRunTest {

  /** A run that trains nothing: tasks switch every 2 steps. */
  private static final class StubRun extends TrainingRun {
    StubRun(int steps) {
      super("stub", "healthy", steps, Map.of("dtype", "float32"), Trace.FIXED_CLOCK);
    }

    @Override
    StepOutcome train(int step) {
      return new StepOutcome(Map.of("loss", 1.0 / (step + 1)), "t" + step / 2, step % 2 == 0, null);
    }
  }

  @Test
  void marksRunStartTaskSwitchesAndRunEndAndSendsTagsOnce() {
    Trace t = Trace.of(new StubRun(5));

    assertThat(t.records()).extracting(TelemetryRecord::event)
        .containsExactly(TelemetryRecord.RUN_START, null, TelemetryRecord.TASK_START, null, TelemetryRecord.RUN_END);
    assertThat(t.records()).extracting(TelemetryRecord::step).containsExactly(0L, 1L, 2L, 3L, 4L);
    assertThat(t.records().get(0).tags().get("dtype")).isEqualTo("float32");
    assertThat(t.records().subList(1, 5)).allMatch(r -> r.tags().size() == 0);
    assertThat(t.records()).allMatch(r -> r.timeMs() == Trace.FIXED_CLOCK.millis());
  }

  @Test
  void refusesToRunPastItsLastStep() {
    StubRun run = new StubRun(2);
    run.next();
    run.next();

    assertThat(run.hasNext()).isFalse();
    assertThatThrownBy(run::next).isInstanceOf(NoSuchElementException.class);
  }
}
