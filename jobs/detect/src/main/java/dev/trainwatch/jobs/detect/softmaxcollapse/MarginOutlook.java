package dev.trainwatch.jobs.detect.softmaxcollapse;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * How far the label margins are from the dtype's absorption limit {@code p ln 2} and how soon they
 * reach it: a line through the sampled rows' high-quantile margins (current ones preferred), else
 * through {@code logits/margin_mean}, and, when {@code param_norm} is published, whether the
 * weights grow (collapse is the weights scaling up along themselves).
 */
final class MarginOutlook {

  /** Margins this close to the limit count as at it (absorbed rows settle there). */
  static final double AT_LIMIT_NATS = 0.5;

  private final Trend rows = new Trend();
  private final Trend summary = new Trend();
  private final Trend paramNorm = new Trend();

  /** The margin line in use (sampled rows when current, else margin_mean) and its verdict. */
  record View(
      String source,
      double level,
      double slope,
      double gap,
      double eta,
      boolean warns,
      boolean holds) {}

  void addRows(long step, double margin, SoftmaxAbsorptionDetector.Config c) {
    rows.add(step, margin, c.trendTauSteps());
  }

  void addSummary(long step, double marginMean, SoftmaxAbsorptionDetector.Config c) {
    summary.add(step, marginMean, c.trendTauSteps());
  }

  void addParamNorm(long step, double norm, SoftmaxAbsorptionDetector.Config c) {
    paramNorm.add(step, norm, c.trendTauSteps());
  }

  /** The outlook at {@code step}, null when no current, trusted margin line exists. */
  View view(long step, SoftmaxAbsorptionDetector.Config c, Dtype dt) {
    Trend t;
    String source;
    double near;
    double horizon;
    if (rows.count() > 0 && step - rows.lastStep() <= c.staleSteps()) {
      t = rows;
      source = c.rowsMarginSource();
      near = nearFor(c.rowsNearNats(), dt);
      horizon = c.rowsHorizonSteps();
    } else if (summary.count() > 0 && step - summary.lastStep() <= c.staleSteps()) {
      t = summary;
      source = "margin_mean";
      near = nearFor(c.summaryNearNats(), dt);
      horizon = c.summaryHorizonSteps();
    } else {
      return null;
    }
    if (!trusted(t, c)) {
      return null;
    }
    double level = t.level();
    double slope = t.slope();
    double gap = dt.absorptionLimit() - level;
    double eta = gap <= 0 ? 0 : slope > 0 ? gap / slope : Double.POSITIVE_INFINITY;
    boolean norm = normAllows(c);
    boolean warns = gap <= near && eta <= horizon && norm;
    // Keeps a firing alert: still approaching (relaxed), or sitting at the limit, where absorbed
    // samples stop learning (real collapsed rows hover within 0.5 nat below p ln 2).
    boolean holds =
        gap <= AT_LIMIT_NATS
            || gap <= near + AT_LIMIT_NATS && eta <= horizon * c.resolveEtaFactor() && norm;
    return new View(source, level, slope, gap, eta, warns, holds);
  }

  /**
   * The "near the limit" band for the dtype: the settings are for float32 (limit 16.64) and scale
   * with the limit below it, so a bfloat16 margin must come as close in relative terms (3 nats of
   * 16.64 is 18%: 1.0 nat of bf16's 5.55, 1.37 of fp16's 7.62); otherwise any well-trained bf16
   * classifier (margins of 3) would "approach" 5.55. Never wider than set.
   */
  static double nearFor(double nearNats, Dtype dt) {
    return nearNats * Math.min(1.0, dt.absorptionLimit() / Dtype.FLOAT32.absorptionLimit());
  }

  private static boolean trusted(Trend t, SoftmaxAbsorptionDetector.Config c) {
    return t.count() >= c.trendMinObs()
        && t.span() >= c.trendMinSpanSteps()
        && Double.isFinite(t.slope())
        && Double.isFinite(t.level());
  }

  /** False only when param_norm is published, trusted and not rising. */
  private boolean normAllows(SoftmaxAbsorptionDetector.Config c) {
    if (!c.requireNormGrowth()
        || !trusted(paramNorm, c)
        || paramNorm.lastStep() < Math.max(rows.lastStep(), summary.lastStep()) - c.staleSteps()) {
      return true;
    }
    return paramNorm.slope() > 0;
  }

  /** The param_norm line, null unless trusted (for the evidence). */
  Trend paramNorm(SoftmaxAbsorptionDetector.Config c) {
    return trusted(paramNorm, c) ? paramNorm : null;
  }

  void write(DataOutput out) throws IOException {
    rows.write(out);
    summary.write(out);
    paramNorm.write(out);
  }

  void read(DataInput in) throws IOException {
    rows.read(in);
    summary.read(in);
    paramNorm.read(in);
  }
}
