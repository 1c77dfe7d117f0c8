package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Where a run stands in its schedule, for detectors whose baseline is statistics of the
 * run itself: still warming up (LR ramping), just restarted (SGDR: LR jumped up after having
 * decayed) or just switched task (continual learning). After a restart or a task switch the
 * old baseline no longer describes the run, so {@link #update} reports a re-baseline and
 * {@link #quiet} holds the detector back until a new baseline has formed.
 *
 * <pre>{@code
 * if (phase.update(record)) { stats.reset(); }
 * if (phase.quiet(step, c.minSteps(), c.settleSteps())) { return; }
 * }</pre>
 */
final class LrPhase {

  /** An LR rise by at least this factor in one step, after it decayed by as much, is a restart. */
  static final double RESTART_FACTOR = 2.0;

  private double prevLr = Double.NaN;
  private double peakLr = Double.NaN;
  private long firstStep = -1;
  private long lastRampStep = -1;
  private long lastResetStep = -1;
  private int taskHash;
  private boolean hasTask;

  /**
   * Observes the record (its own {@code lr}, not the sticky LR in force: a step without one
   * says nothing about the schedule); returns true when the baseline must be rebuilt (restart or task switch). */
  boolean update(TelemetryRecord r) {
    long step = r.step();
    if (firstStep < 0) {
      firstStep = step;
    }
    boolean reset = false;
    if (r.task() != null) {
      int h = r.task().hashCode();
      reset = hasTask && h != taskHash;
      taskHash = h;
      hasTask = true;
    }
    double l = r.metrics().get("lr");
    if (Double.isFinite(l) && l >= 0) {
      if (Double.isFinite(prevLr) && l > prevLr * (1 + 1e-9)) {
        boolean decayed = prevLr * RESTART_FACTOR <= peakLr;
        if (decayed && l >= prevLr * RESTART_FACTOR) {
          reset = true;
        } else {
          lastRampStep = step;
        }
      }
      prevLr = l;
      peakLr = Double.isFinite(peakLr) ? Math.max(peakLr, l) : l;
    }
    if (reset) {
      lastResetStep = step;
    }
    return reset;
  }

  /** True during the first {@code minSteps}, while the LR ramps up, and for {@code settle} steps after a ramp or re-baseline. */
  boolean quiet(long step, int minSteps, int settle) {
    return step - firstStep < minSteps
        || (lastRampStep >= 0 && step - lastRampStep < settle)
        || (lastResetStep >= 0 && step - lastResetStep < settle);
  }

  /** True for {@code settle} steps after a restart or task switch (ignores warmup). */
  boolean settling(long step, int minSteps, int settle) {
    return step - firstStep < minSteps || (lastResetStep >= 0 && step - lastResetStep < settle);
  }

  void write(DataOutput out) throws IOException {
    out.writeDouble(prevLr);
    out.writeDouble(peakLr);
    out.writeLong(firstStep);
    out.writeLong(lastRampStep);
    out.writeLong(lastResetStep);
    out.writeInt(taskHash);
    out.writeBoolean(hasTask);
  }

  void read(DataInput in) throws IOException {
    prevLr = in.readDouble();
    peakLr = in.readDouble();
    firstStep = in.readLong();
    lastRampStep = in.readLong();
    lastResetStep = in.readLong();
    taskHash = in.readInt();
    hasTask = in.readBoolean();
  }
}
