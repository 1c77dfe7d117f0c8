package dev.trainwatch.jobs.demo;

import dev.trainwatch.wire.LogitsSample;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Tags;
import dev.trainwatch.wire.TelemetryRecord;
import java.time.InstantSource;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The record-building half of every demo trainer: step numbering, wall clock, tags on the
 * first record and the run_start / task_start / run_end events. Subclasses only train.
 */
abstract class TrainingRun implements DemoRun {

  /** What one optimizer step produced; {@code task} and {@code logits} may be null. */
  record StepOutcome(Map<String, Double> metrics, String task, boolean taskStart, LogitsSample logits) {}

  private final String run;
  private final String kind;
  private final int steps;
  private final Tags tags;
  private final InstantSource clock;
  private int step;

  TrainingRun(String run, String kind, int steps, Map<String, String> tags, InstantSource clock) {
    if (steps < 2) {
      throw new IllegalArgumentException("a run needs at least 2 steps (run_start, run_end), got " + steps);
    }
    this.run = run;
    this.kind = kind;
    this.steps = steps;
    this.tags = Tags.of(tags);
    this.clock = clock;
  }

  /** Runs optimizer step {@code step} (0-based, called in order) and reports it. */
  abstract StepOutcome train(int step);

  @Override
  public final String run() {
    return run;
  }

  @Override
  public final String kind() {
    return kind;
  }

  @Override
  public final int steps() {
    return steps;
  }

  @Override
  public final boolean hasNext() {
    return step < steps;
  }

  @Override
  public final TelemetryRecord next() {
    if (!hasNext()) {
      throw new NoSuchElementException(run + " has finished its " + steps + " steps");
    }
    int s = step++;
    StepOutcome o = train(s);
    String event = null;
    if (s == 0) {
      event = TelemetryRecord.RUN_START; // step 0 also starts the first task: its task field says which
    } else if (s == steps - 1) {
      event = TelemetryRecord.RUN_END;
    } else if (o.taskStart()) {
      event = TelemetryRecord.TASK_START;
    }
    return new TelemetryRecord(
        run, s, clock.millis(), o.task(), event, Metrics.of(o.metrics()), s == 0 ? tags : Tags.EMPTY,
        o.logits());
  }
}
