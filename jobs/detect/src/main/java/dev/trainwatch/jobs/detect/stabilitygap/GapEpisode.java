package dev.trainwatch.jobs.detect.stabilitygap;

import dev.trainwatch.wire.Severity;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * One task switch as seen by one earlier task: its pre-switch accuracy, the deepest point since,
 * and whether it has recovered. The rule is plain arithmetic on (step, accuracy) pairs, so it is
 * tested without records; {@link OldTaskDropDetector} turns its verdicts into alert events.
 *
 * <p>Lifecycle: {@link #open} at the switch; {@link #observe} on every evaluation of the task; the
 * episode closes when its alert resolves (so one switch raises at most one alert per task: no
 * flapping), when the arming window passes without a drop, or at the next switch. All times are
 * steps, so a sparse or irregular eval cadence changes how soon a drop is seen, not what the
 * thresholds mean.
 */
final class GapEpisode {

  /** What one evaluation means for the episode. */
  enum Verdict {
    /** Nothing to report. */
    NONE,
    /** The accuracy fell at least the warning threshold below the pre-switch level. */
    WARNING,
    /** The accuracy fell at least the critical threshold below the pre-switch level. */
    CRITICAL,
    /** Back within the recovery band of the pre-switch level for long enough. */
    RECOVERED,
    /** No new minimum for the settle time: the gap is over, the rest is lasting forgetting. */
    SETTLED,
    /** The arming window passed without a drop: nothing to watch any more. */
    EXPIRED
  }

  /** Accuracies are stored as float: a drop of exactly the threshold must still count. */
  private static final double EPS = 1e-6;

  boolean open;
  long switchStep = -1;
  float pre = Float.NaN;
  float noise;
  float threshold;
  float minAcc = Float.NaN;
  long minStep = -1;
  long lastNewMinStep = -1;
  long recoveredSince = -1;
  int recoveredEvals;

  /** Evaluations since the minimum (the minimum's own included). */
  int evalsSinceMin;

  /**
   * The climb out of the minimum as a staircase: an entry whenever the accuracy exceeds the
   * previous entry by {@code new_min_margin}, so "first step at or above level L" is known to
   * within that margin once the plateau L is known, in bounded state.
   */
  private final float[] riseAcc = new float[RISE_STEPS];

  private final long[] riseStep = new long[RISE_STEPS];
  private int rises;
  static final int RISE_STEPS = 24;

  void open(long step, double preLevel, double noiseSd, double warnThreshold) {
    open = true;
    switchStep = step;
    pre = (float) preLevel;
    noise = (float) noiseSd;
    threshold = (float) warnThreshold;
    minAcc = Float.NaN;
    minStep = -1;
    lastNewMinStep = -1;
    recoveredSince = -1;
    recoveredEvals = 0;
    evalsSinceMin = 0;
    rises = 0;
  }

  void close() {
    open = false;
  }

  double depth() {
    return pre - minAcc;
  }

  /**
   * Applies one evaluation {@code acc} at {@code step}. {@code firing} is the severity the alert is
   * up at, null when it is not: a warning may escalate, and any firing alert resolves on recovery
   * or settling, even one still far below the pre-switch level.
   */
  Verdict observe(long step, double acc, OldTaskDropDetector.Config c, Severity firing) {
    trackMinimum(step, acc, c.newMinMargin());
    double drop = pre - acc + EPS;
    boolean armed = step - switchStep <= c.windowSteps();
    if (firing != null) {
      if (firing == Severity.WARNING && drop >= Math.max(c.criticalDrop(), threshold)) {
        return Verdict.CRITICAL;
      }
      return recoveryVerdict(step, drop, c);
    }
    if (armed && drop >= threshold) {
      return drop >= Math.max(c.criticalDrop(), threshold) ? Verdict.CRITICAL : Verdict.WARNING;
    }
    return armed ? Verdict.NONE : Verdict.EXPIRED;
  }

  private void trackMinimum(long step, double acc, double margin) {
    if (!(acc >= minAcc)) {
      if (!(acc >= minAcc - margin)) {
        lastNewMinStep = step; // a real new low, not a wobble at the bottom: restart settling
      }
      minAcc = (float) acc;
      minStep = step;
      evalsSinceMin = 1;
      rises = 0;
      return;
    }
    evalsSinceMin++;
    double top = rises == 0 ? minAcc : riseAcc[rises - 1];
    if (rises < RISE_STEPS && acc >= top + margin) {
      riseAcc[rises] = (float) acc;
      riseStep[rises++] = step;
    }
  }

  /**
   * First step after the minimum at which the accuracy reached {@code level} (to within {@code
   * margin}); the minimum's step when the level is not above it; -1 if never.
   */
  long firstStepAtOrAbove(double level, double margin) {
    if (level <= minAcc + margin) {
      return minStep;
    }
    for (int i = 0; i < rises; i++) {
      if (riseAcc[i] >= level - margin) {
        return riseStep[i];
      }
    }
    return -1;
  }

  private Verdict recoveryVerdict(long step, double drop, OldTaskDropDetector.Config c) {
    if (drop < c.recoverDrop()) {
      if (recoveredSince < 0) {
        recoveredSince = step;
        recoveredEvals = 0;
      }
      recoveredEvals++;
      if (step - recoveredSince >= c.recoverSteps() && recoveredEvals >= c.recoverEvals()) {
        return Verdict.RECOVERED;
      }
      return Verdict.NONE;
    }
    recoveredSince = -1;
    recoveredEvals = 0;
    return step - lastNewMinStep >= c.settleSteps() ? Verdict.SETTLED : Verdict.NONE;
  }

  void write(DataOutput out) throws IOException {
    out.writeBoolean(open);
    if (!open) {
      return;
    }
    out.writeLong(switchStep);
    out.writeFloat(pre);
    out.writeFloat(noise);
    out.writeFloat(threshold);
    out.writeFloat(minAcc);
    out.writeLong(minStep);
    out.writeLong(lastNewMinStep);
    out.writeLong(recoveredSince);
    out.writeShort(Math.min(recoveredEvals, Short.MAX_VALUE));
    out.writeInt(evalsSinceMin);
    out.writeByte(rises);
    for (int i = 0; i < rises; i++) {
      out.writeFloat(riseAcc[i]);
      out.writeLong(riseStep[i]);
    }
  }

  void read(DataInput in) throws IOException {
    open = in.readBoolean();
    if (!open) {
      return;
    }
    switchStep = in.readLong();
    pre = in.readFloat();
    noise = in.readFloat();
    threshold = in.readFloat();
    minAcc = in.readFloat();
    minStep = in.readLong();
    lastNewMinStep = in.readLong();
    recoveredSince = in.readLong();
    recoveredEvals = in.readShort();
    evalsSinceMin = in.readInt();
    rises = in.readByte();
    for (int i = 0; i < rises; i++) {
      riseAcc[i] = in.readFloat();
      riseStep[i] = in.readLong();
    }
  }
}
