package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * What the run's schedule is doing, derived from the {@code lr} it reports (never from its name or
 * tags), for detectors whose baseline is statistics of the run itself:
 *
 * <ul>
 *   <li><b>ramp</b>: the LR climbs gradually to a new high (warmup, the rising half of a cyclic
 *       schedule's first cycle): spike baselines stay quiet while it lasts;
 *   <li><b>restart</b>: the LR comes back up by at least {@link #RESTART_FACTOR} from a trough it
 *       had decayed to by as much, without exceeding the run's peak (SGDR with any period or
 *       multiplier, cyclic LR, step schedules that step back up): the baseline is rebuilt;
 *   <li><b>jump</b>: the LR rises in one report by at least {@link #JUMP_FACTOR} to a new high at
 *       least {@link #NEW_HIGH_FACTOR} above the run's peak, after it had been flat or decaying for
 *       {@link #FLAT_RECORDS} reports. Not a schedule the baselines should adapt to but the classic
 *       precursor of a sudden blow-up: nothing goes quiet, the {@code sudden_divergence} detector
 *       warns on it;
 *   <li>a task switch ({@code task} changes) rebuilds the baseline as a restart does.
 * </ul>
 *
 * <pre>{@code
 * if (phase.restarted()) { stats.reset(); }
 * if (phase.quiet(step, c.minSteps(), c.settleSteps())) { return; }
 * }</pre>
 *
 * <p>One per run, in {@link RunContext}, updated once per record before the detectors see it; the
 * detectors that read it are handed it by {@link RunMonitor} ({@link Reader}). It used to be one
 * per detector, six identical copies updated six times a record (6% of the detectors' CPU, 486 of a
 * run's 2,398 state bytes).
 */
public final class LrPhase {

  /** A detector that reads the run's phase: {@link RunMonitor} hands it the run's one instance. */
  public interface Reader {
    void readPhaseOf(LrPhase shared);
  }

  /**
   * Rising back this much from a trough it had decayed to by as much is a restart (SGDR, cyclic).
   */
  static final double RESTART_FACTOR = 1.5;

  /** A one-report rise by this factor after a flat stretch is a jump, not a ramp. */
  static final double JUMP_FACTOR = 2.0;

  /**
   * ...and it must reach this multiple of the highest LR seen before (a new high, not a restart).
   */
  static final double NEW_HIGH_FACTOR = 1.25;

  /** Reports without an LR rise before a rise can count as a jump (a warmup rises every report). */
  static final int FLAT_RECORDS = 10;

  private double prevLr = Double.NaN;
  private double peakLr = Double.NaN;
  private double hi = Double.NaN; // highest LR since the last restart
  private double lo = Double.NaN; // lowest LR since hi was reached
  private int flat; // reports since the LR last rose
  private long firstStep = -1;
  private long lastRampStep = -1;
  private long lastResetStep = -1;
  private long lastJumpStep = -1;
  private double jumpFrom = Double.NaN;
  private int taskHash;
  private boolean hasTask;

  // of the record last observed (not state: a restored run's next record sets them)
  private boolean restarted;
  private double lrBefore = Double.NaN;

  /**
   * Observes the record (its own {@code lr}, not the sticky LR in force: a step without one says
   * nothing about the schedule); returns true when the baseline must be rebuilt (restart or task
   * switch).
   */
  boolean update(TelemetryRecord r) {
    lrBefore = prevLr;
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
    double l = r.metrics().get(MetricNames.LR);
    if (Double.isFinite(l) && l >= 0) {
      if (Double.isNaN(prevLr)) {
        hi = lo = peakLr = l;
      } else if (l > prevLr * (1 + 1e-9)) {
        if (prevLr > 0
            && l >= prevLr * JUMP_FACTOR
            && l >= peakLr * NEW_HIGH_FACTOR
            && flat >= FLAT_RECORDS) {
          lastJumpStep = step;
          jumpFrom = prevLr;
          hi = lo = l;
        } else if (hi > 0
            && hi >= lo * RESTART_FACTOR
            && l >= lo * RESTART_FACTOR
            && l <= peakLr * NEW_HIGH_FACTOR) {
          reset = true;
          hi = lo = l;
        } else {
          if (l > peakLr) {
            lastRampStep = step;
          }
          if (l > hi) {
            hi = lo = l;
          }
        }
        flat = 0;
      } else {
        flat = Math.min(flat + 1, 1 << 20);
        if (l < lo) {
          lo = l;
        }
      }
      prevLr = l;
      peakLr = Math.max(peakLr, l);
    }
    if (reset) {
      lastResetStep = step;
    }
    restarted = reset;
    return reset;
  }

  /**
   * True when the record just observed restarted the schedule or switched task: rebuild baselines.
   */
  public boolean restarted() {
    return restarted;
  }

  /** The LR reported before the record just observed (NaN if none). */
  public double lrBefore() {
    return lrBefore;
  }

  /** True when the record just observed carried an LR jump (see the class comment). */
  public boolean jumpedAt(long step) {
    return lastJumpStep == step;
  }

  /** The LR reported before the last jump. */
  public double jumpFrom() {
    return jumpFrom;
  }

  /** The LR last reported (NaN if never). */
  public double lr() {
    return prevLr;
  }

  /**
   * True during the first {@code minSteps}, while the LR ramps up, and for {@code settle} steps
   * after a ramp or re-baseline. Never because of a jump: the blow-up that follows one is what the
   * spike detectors must see.
   */
  public boolean quiet(long step, int minSteps, int settle) {
    return step - firstStep < minSteps
        || (lastRampStep >= 0 && step - lastRampStep < settle)
        || (lastResetStep >= 0 && step - lastResetStep < settle);
  }

  /** True for {@code settle} steps after a restart or task switch (ignores warmup). */
  public boolean settling(long step, int minSteps, int settle) {
    return step - firstStep < minSteps || (lastResetStep >= 0 && step - lastResetStep < settle);
  }

  void write(DataOutput out) throws IOException {
    out.writeDouble(prevLr);
    out.writeDouble(peakLr);
    out.writeDouble(hi);
    out.writeDouble(lo);
    out.writeInt(flat);
    out.writeLong(firstStep);
    out.writeLong(lastRampStep);
    out.writeLong(lastResetStep);
    out.writeLong(lastJumpStep);
    out.writeDouble(jumpFrom);
    out.writeInt(taskHash);
    out.writeBoolean(hasTask);
  }

  /**
   * Reads what {@link #write} wrote: from the run's context, or from a detector's frame of a format
   * from before the phase was shared (each of the six held an identical copy).
   */
  public void read(DataInput in) throws IOException {
    prevLr = in.readDouble();
    peakLr = in.readDouble();
    hi = in.readDouble();
    lo = in.readDouble();
    flat = in.readInt();
    firstStep = in.readLong();
    lastRampStep = in.readLong();
    lastResetStep = in.readLong();
    lastJumpStep = in.readLong();
    jumpFrom = in.readDouble();
    taskHash = in.readInt();
    hasTask = in.readBoolean();
  }
}
