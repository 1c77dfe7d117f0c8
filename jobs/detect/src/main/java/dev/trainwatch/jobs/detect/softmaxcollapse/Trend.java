package dev.trainwatch.jobs.detect.softmaxcollapse;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Exponentially weighted least-squares line through a series observed at arbitrary steps: an
 * observation {@code tau} steps old weighs {@code 1/e}. O(1) time and 5 sums of state, so it fits
 * keyed state, and it treats a sparse series (logits sampled every 50 steps) and a dense one (a
 * metric every step) alike: the window is measured in steps, not in points.
 *
 * <p>The sums are kept relative to the last observed step, so they stay well conditioned however
 * long the run.
 *
 * <pre>{@code
 * Trend t = new Trend();
 * t.add(step, margin, 200);
 * double eta = (limit - t.level()) / t.slope();   // steps until the line reaches the limit
 * }</pre>
 */
final class Trend {

  private double s0; // sum w
  private double st; // sum w t, t = step - lastStep
  private double sy; // sum w y
  private double stt; // sum w t^2
  private double sty; // sum w t y
  private long lastStep = -1;
  private long firstStep = -1;
  private int count;

  /** Adds {@code y} observed at {@code step} (after every earlier one); non-finite y is ignored. */
  void add(long step, double y, double tau) {
    if (!Double.isFinite(y) || step < lastStep) {
      return;
    }
    if (lastStep >= 0 && step > lastStep) {
      double d = step - lastStep;
      double a = Math.exp(-d / tau);
      // shift the origin to the new step (t -> t - d), then decay every weight by a
      double st1 = st - d * s0;
      double stt1 = stt - 2 * d * st + d * d * s0;
      double sty1 = sty - d * sy;
      s0 *= a;
      st = st1 * a;
      sy *= a;
      stt = stt1 * a;
      sty = sty1 * a;
    }
    if (firstStep < 0) {
      firstStep = step;
    }
    lastStep = step;
    s0 += 1;
    sy += y;
    if (count < Integer.MAX_VALUE) {
      count++;
    }
  }

  /** Observations so far (not decayed). */
  int count() {
    return count;
  }

  long lastStep() {
    return lastStep;
  }

  /** Steps between the first and the last observation. */
  long span() {
    return firstStep < 0 ? 0 : lastStep - firstStep;
  }

  /** Slope per step of the weighted line, NaN with fewer than two distinct steps. */
  double slope() {
    double den = s0 * stt - st * st;
    if (!(den > 1e-9 * Math.max(1.0, s0 * stt))) {
      return Double.NaN;
    }
    return (s0 * sty - st * sy) / den;
  }

  /** The line's value at the last observed step (the smoothed current level), NaN if empty. */
  double level() {
    if (s0 <= 0) {
      return Double.NaN;
    }
    double b = slope();
    return Double.isNaN(b) ? sy / s0 : (sy - b * st) / s0;
  }

  void write(DataOutput out) throws IOException {
    out.writeDouble(s0);
    out.writeDouble(st);
    out.writeDouble(sy);
    out.writeDouble(stt);
    out.writeDouble(sty);
    out.writeLong(lastStep);
    out.writeLong(firstStep);
    out.writeInt(count);
  }

  void read(DataInput in) throws IOException {
    s0 = in.readDouble();
    st = in.readDouble();
    sy = in.readDouble();
    stt = in.readDouble();
    sty = in.readDouble();
    lastStep = in.readLong();
    firstStep = in.readLong();
    count = in.readInt();
  }
}
