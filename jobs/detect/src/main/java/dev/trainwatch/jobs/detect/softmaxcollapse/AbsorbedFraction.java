package dev.trainwatch.jobs.detect.softmaxcollapse;

import dev.trainwatch.jobs.detect.Hysteresis;
import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.Metrics;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The share of samples whose softmax of the true class is exactly 1.0 in the dtype: the last
 * observation (summary metric, else recomputed from the sampled rows) and how many observations in
 * a row reached the warning and the critical level. The streaks are capped at 2^20 (the evidence
 * reports the warning streak); the alert resolves on steps clear, not on a count, so this is not a
 * {@link Hysteresis}.
 */
final class AbsorbedFraction {

  static final byte SRC_NONE = 0;
  static final byte SRC_SUMMARY = 1;
  static final byte SRC_ROWS = 2;

  private double value = Double.NaN; // last observed absorbed fraction
  private byte source = SRC_NONE;
  private int warnRun;
  private int criticalRun;

  /** max(absorbed_frac, zero_loss_frac) over the finite ones, NaN when neither is usable. */
  static double ofSummary(Metrics m) {
    double a = m.get(MetricNames.LOGITS_ABSORBED_FRAC);
    double z = m.get(MetricNames.LOGITS_ZERO_LOSS_FRAC);
    boolean fa = Double.isFinite(a) && a >= 0 && a <= 1;
    boolean fz = Double.isFinite(z) && z >= 0 && z <= 1;
    if (fa && fz) {
      return Math.max(a, z);
    }
    return fa ? a : fz ? z : Double.NaN;
  }

  void observe(double frac, byte from, SoftmaxAbsorptionDetector.Config c) {
    value = frac;
    source = from;
    warnRun = frac >= c.absorbedWarn() ? Math.min(warnRun + 1, 1 << 20) : 0;
    criticalRun = frac >= c.absorbedCritical() ? Math.min(criticalRun + 1, 1 << 20) : 0;
  }

  /** The last observed fraction, NaN before the first. */
  double value() {
    return value;
  }

  boolean fromRows() {
    return source == SRC_ROWS;
  }

  /** Observations in a row at or above the warning level. */
  int warnRun() {
    return warnRun;
  }

  /** At or above the warning level on enough observations in a row: absorption has started. */
  boolean absorbing(SoftmaxAbsorptionDetector.Config c) {
    return warnRun >= c.absorbedWarnObs();
  }

  /** At or above the critical level on enough observations in a row: collapse under way. */
  boolean critical(SoftmaxAbsorptionDetector.Config c) {
    return criticalRun >= c.absorbedCriticalObs();
  }

  void write(DataOutput out) throws IOException {
    out.writeDouble(value);
    out.writeByte(source);
    out.writeInt(warnRun);
    out.writeInt(criticalRun);
  }

  void read(DataInput in) throws IOException {
    value = in.readDouble();
    source = in.readByte();
    warnRun = in.readInt();
    criticalRun = in.readInt();
  }
}
