package dev.trainwatch.jobs.detect.softmaxcollapse;

import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.Metrics;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Whether the run is diverging, from the loss and logit metrics: a collapse alert now would have
 * the divergence itself as its evidence (exploding logits make huge margins, and "absorbed" labels
 * of a loss in the thousands are noise). Softmax collapse drives the loss to 0; it never comes with
 * the loss rising. Tracks the smoothed loss (EWMA, span 20), its running minimum, and the last step
 * with a non-finite loss or {@code logits/*} metric.
 */
final class DivergenceGate {

  /**
   * Smoothed loss this multiple of its best (and {@link #DIVERGING_RISE} above it) is a divergence.
   */
  static final double DIVERGING_RATIO = 2.0;

  static final double DIVERGING_RISE = 0.1;

  /** Steps after a non-finite loss or logit metric during which the run counts as diverging. */
  static final long NON_FINITE_HOLD = 50;

  private double lossEwma = Double.NaN;
  private double lossMin = Double.NaN;
  private int lossCount;
  private long lastNonFinite = -1;

  void track(Metrics m, long step) {
    double loss = m.get(MetricNames.LOSS);
    boolean bad = m.has(MetricNames.LOSS) && !Double.isFinite(loss);
    for (int i = 0; i < m.size() && !bad; i++) {
      bad = m.name(i).startsWith("logits/") && !Double.isFinite(m.value(i));
    }
    if (bad) {
      lastNonFinite = step;
    }
    if (Double.isFinite(loss)) {
      lossEwma = Double.isNaN(lossEwma) ? loss : lossEwma + 2.0 / 21 * (loss - lossEwma);
      lossCount = Math.min(lossCount + 1, 1 << 20);
      if (lossCount >= 20) {
        lossMin = Double.isNaN(lossMin) ? lossEwma : Math.min(lossMin, lossEwma);
      }
    }
  }

  boolean diverging(long step) {
    return lastNonFinite >= 0 && step - lastNonFinite <= NON_FINITE_HOLD
        || lossMin >= 0
            && lossEwma >= DIVERGING_RATIO * lossMin
            && lossEwma - lossMin >= DIVERGING_RISE;
  }

  void write(DataOutput out) throws IOException {
    out.writeDouble(lossEwma);
    out.writeDouble(lossMin);
    out.writeInt(lossCount);
    out.writeLong(lastNonFinite);
  }

  void read(DataInput in) throws IOException {
    lossEwma = in.readDouble();
    lossMin = in.readDouble();
    lossCount = in.readInt();
    lastNonFinite = in.readLong();
  }
}
