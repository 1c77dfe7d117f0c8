package dev.trainwatch.jobs.detect;

/**
 * A detector that also judges the passage of processing time, not only records: it has a deadline
 * (when, with no new step, it would fire) and is asked to look again at that time. {@link
 * RunMonitor} passes the processing time of each arrival in {@link RunContext#nowMs()}; the host
 * (the Flink adapter's per-run timer, or a test's clock) calls {@link #onTime}.
 */
public interface TimeDriven {

  /** Processing time (ms) at which {@link #onTime} should next look, or -1 when nothing is due. */
  long deadline(RunContext ctx);

  /** The processing time is now {@code nowMs} and no new step has arrived since the last one. */
  void onTime(long nowMs, RunContext ctx, AlertSink out);

  /**
   * The run went silent for the idle timeout and its state is dropped: report what that means
   * (before every alert still firing is resolved as idle).
   */
  void onExpire(long nowMs, RunContext ctx, AlertSink out);
}
