package dev.trainwatch.jobs.detect.instability;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The smoothed loss (EWMA, span ~20 steps, like the 20-step mean of the divergence label), its
 * highest value since the baseline began (where training started from) and its running minimum once
 * the baseline is trusted (forgotten on re-baseline). From these: how far the loss rose above its
 * best, as a ratio and as the share of the run's progress it gave back. O(1) state.
 */
final class LossTrend {

  static final double ALPHA = 2.0 / (20 + 1);

  private double ewma = Double.NaN;
  private double peak = Double.NaN;
  private double min = Double.NaN;
  private int n;
  // per-step noise of log-loss: mean absolute successive difference (slow trends cancel out)
  private double prevLog = Double.NaN;
  private double absDiff = Double.NaN;
  private boolean noiseFrozen;

  /** Memory of the noise estimate: ~100 records. */
  static final double NOISE_BETA = 0.99;

  /** Sd of an EWMA of white noise relative to the noise: sqrt(alpha / (2 - alpha)). */
  static final double EWMA_SD = Math.sqrt(ALPHA / (2 - ALPHA));

  /** Adds a finite loss; {@code track} says whether the running minimum may be updated. */
  void add(double loss, boolean track) {
    if (loss > 0) {
      double x = Math.log(loss);
      if (!Double.isNaN(prevLog) && !noiseFrozen) {
        // capped at 5x the current estimate, so one spike cannot widen the band for long
        double d = Math.abs(x - prevLog);
        d = Double.isNaN(absDiff) ? d : Math.min(d, 5 * absDiff + 1e-9);
        absDiff = Double.isNaN(absDiff) ? d : NOISE_BETA * absDiff + (1 - NOISE_BETA) * d;
      }
      prevLog = x;
    }
    ewma = Double.isNaN(ewma) ? loss : ewma + ALPHA * (loss - ewma);
    n++;
    peak = Double.isNaN(peak) ? ewma : Math.max(peak, ewma);
    if (track && n >= 20) {
      min = Double.isNaN(min) ? ewma : Math.min(min, ewma);
    }
  }

  /**
   * Forgets the running minimum (after an LR restart or task switch the loss legitimately rises
   * above it). The smoothed loss and the peak are kept: the peak is where the whole run started
   * from, so "progress given back" stays relative to all the learning done, and a small
   * post-restart bump of a run at near-zero loss is not mistaken for lost progress.
   */
  void rebaseline() {
    min = Double.NaN;
  }

  /**
   * The healthy band of the smoothed loss over its running minimum implied by the run's own noise:
   * exp(k x the sd of the EWMA), with the per-step sd of log-loss estimated from the mean absolute
   * successive difference (sqrt(pi) / 2 of it for Gaussian noise). A batch-2 run with log-loss
   * noise 0.8 gets exp(6 x 0.218 x 0.8) = 2.9x; a clean LM run (0.03) 1.04x.
   */
  double noiseBand(double k) {
    if (Double.isNaN(absDiff)) {
      return 1;
    }
    double sigma = absDiff * Math.sqrt(Math.PI) / 2;
    return Math.exp(k * EWMA_SD * sigma);
  }

  /** Stops (or resumes) learning the noise, while the loss is judged to be rising. */
  void freezeNoise(boolean frozen) {
    noiseFrozen = frozen;
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
    out.writeDouble(prevLog);
    out.writeDouble(absDiff);
    out.writeBoolean(noiseFrozen);
  }

  void read(DataInput in) throws IOException {
    ewma = in.readDouble();
    peak = in.readDouble();
    min = in.readDouble();
    n = in.readInt();
    prevLog = in.readDouble();
    absDiff = in.readDouble();
    noiseFrozen = in.readBoolean();
  }
}
