package dev.trainwatch.jobs.detect;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Hold {@code n} in a row to fire, {@code m} calm in a row to resolve: a value hovering at a
 * threshold neither flaps nor fires on one noisy record. Two counters, each reset by one
 * observation that breaks the streak: {@link #held()} counts consecutive observations of the firing
 * condition, {@link #calm()} those of the release condition. A rule counts only the observations
 * that say something (a record without the metric is neither), usually the firing condition while
 * its alert is quiet and the release condition while it fires.
 *
 * <p>{@link #fires} and {@link #resolves} count and, when the streak is long enough, start both
 * counters over (the next episode counts from zero); {@link #hold} and {@link #release} only count,
 * for rules that keep counting across the change (a warning that may still escalate). {@link
 * #unsettle} breaks the calm streak alone (a spike while firing, a new warning).
 */
public final class Hysteresis {

  private int held;
  private int calm;

  /** Counts one observation of the firing condition; true when it held {@code n} in a row. */
  public boolean hold(boolean condition, int n) {
    held = condition ? held + 1 : 0;
    return held >= n;
  }

  /** Counts one observation of the release condition; true when it held {@code m} in a row. */
  public boolean release(boolean condition, int m) {
    calm = condition ? calm + 1 : 0;
    return calm >= m;
  }

  /** An observation that is not calm: the release streak starts over (the held one is kept). */
  public void unsettle() {
    calm = 0;
  }

  /** {@link #hold}, and a new start when it is true (the alert fires now). */
  public boolean fires(boolean condition, int n) {
    if (hold(condition, n)) {
      reset();
      return true;
    }
    return false;
  }

  /** {@link #release}, and a new start when it is true (the alert resolves now). */
  public boolean resolves(boolean condition, int m) {
    if (release(condition, m)) {
      reset();
      return true;
    }
    return false;
  }

  /** Consecutive observations of the firing condition so far. */
  public int held() {
    return held;
  }

  /** Consecutive observations of the release condition so far. */
  public int calm() {
    return calm;
  }

  public void reset() {
    held = 0;
    calm = 0;
  }

  /** Two ints: held, calm (the layout of the counters it replaces, so old states read as is). */
  public void write(DataOutput out) throws IOException {
    out.writeInt(held);
    out.writeInt(calm);
  }

  public void read(DataInput in) throws IOException {
    held = in.readInt();
    calm = in.readInt();
  }

  /**
   * Restores the counters, or with {@code calmOnly} a state written before there was a hold counter
   * (a lone calm int: the format version 1 of NonFinite, GradNormSpike and LossSpike).
   */
  public void read(DataInput in, boolean calmOnly) throws IOException {
    held = calmOnly ? 0 : in.readInt();
    calm = in.readInt();
  }
}
