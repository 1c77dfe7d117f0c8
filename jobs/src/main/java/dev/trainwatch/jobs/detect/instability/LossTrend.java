package dev.trainwatch.jobs.detect.instability;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The smoothed loss (EWMA, span ~20 steps, like the 20-step mean of the divergence label),
 * its highest value since the baseline began (where training started from) and its running
 * minimum once the baseline is trusted (forgotten on re-baseline). From these: how far the loss rose above its best,
 * as a ratio and as the share of the run's progress it gave back. O(1) state.
 */
final class LossTrend {

  static final double ALPHA = 2.0 / (20 + 1);

  private double ewma = Double.NaN;
  private double peak = Double.NaN;
  private double min = Double.NaN;
  private int n;

  /** Adds a finite loss; {@code track} says whether the running minimum may be updated. */
  void add(double loss, boolean track) {
    ewma = Double.isNaN(ewma) ? loss : ewma + ALPHA * (loss - ewma);
    n++;
    peak = Double.isNaN(peak) ? ewma : Math.max(peak, ewma);
    if (track && n >= 20) {
      min = Double.isNaN(min) ? ewma : Math.min(min, ewma);
    }
  }

  /**
   * Forgets the running minimum (after an LR restart or task switch the loss legitimately
   * rises above it). The smoothed loss and the peak are kept: the peak is where the whole run
   * started from, so "progress given back" stays relative to all the learning done, and a
   * small post-restart bump of a run at near-zero loss is not mistaken for lost progress.
   */
  void rebaseline() {
    min = Double.NaN;
  }

  boolean ready() {
    return !Double.isNaN(min);
  }

  double ewma() {
    return ewma;
  }

  double min() {
    return min;
  }

  double peak() {
    return peak;
  }

  /** Smoothed loss over its running minimum (NaN until ready). */
  double ratio() {
    return min > 0 ? ewma / min : Double.NaN;
  }

  /** Share of the progress (peak - min) the loss has given back (NaN until ready). */
  double givenBack() {
    double progress = peak - min;
    return progress > 0 ? (ewma - min) / progress : Double.NaN;
  }

  void write(DataOutput out) throws IOException {
    out.writeDouble(ewma);
    out.writeDouble(peak);
    out.writeDouble(min);
    out.writeInt(n);
  }

  void read(DataInput in) throws IOException {
    ewma = in.readDouble();
    peak = in.readDouble();
    min = in.readDouble();
    n = in.readInt();
  }
}
