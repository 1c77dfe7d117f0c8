package dev.trainwatch.wire;

/**
 * One step of one training run, exactly as {@code shared/eval/FORMAT.md} defines it.
 *
 * <p>{@code step} is the event time of the record; {@code timeMs} is -1 when the producer sent no
 * wall clock. {@code task}, {@code event} and {@code logits} are null when absent; {@code metrics}
 * and {@code tags} are never null. Build instances with {@link TelemetryParser} (validated) or, in
 * tests, with {@link #of}.
 */
public record TelemetryRecord(
    String run,
    long step,
    long timeMs,
    String task,
    String event,
    Metrics metrics,
    Tags tags,
    LogitsSample logits) {

  public static final String RUN_START = "run_start";
  public static final String RUN_END = "run_end";
  public static final String TASK_START = "task_start";
  public static final String CHECKPOINT = "checkpoint";

  public TelemetryRecord {
    if (run == null || run.isEmpty()) {
      throw new IllegalArgumentException("run must be a non-empty string");
    }
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0, got " + step);
    }
    metrics = metrics == null ? Metrics.EMPTY : metrics;
    tags = tags == null ? Tags.EMPTY : tags;
  }

  /** A plain record with metrics only (tests, demo). */
  public static TelemetryRecord of(String run, long step, Metrics metrics) {
    return new TelemetryRecord(run, step, -1, null, null, metrics, Tags.EMPTY, null);
  }

  public boolean isEvent(String name) {
    return name.equals(event);
  }
}
