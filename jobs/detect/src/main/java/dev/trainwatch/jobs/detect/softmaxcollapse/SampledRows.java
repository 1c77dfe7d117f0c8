package dev.trainwatch.jobs.detect.softmaxcollapse;

import dev.trainwatch.wire.LogitsSample;
import java.util.Arrays;

/**
 * One record's sampled logit rows: the high quantile of their label margins (what the margin line
 * trends) and the share of rows the softmax absorbs in the dtype. Scratch, not state: the margin
 * buffer is reused from record to record.
 */
final class SampledRows {

  private double[] margins = new double[16];
  private double marginQuantile;
  private double absorbedShare;

  /**
   * Reads the valid rows of {@code ls} (the absorbed share only when {@code countAbsorbed}); false
   * when none is valid.
   */
  boolean read(
      LogitsSample ls, Dtype dt, SoftmaxAbsorptionDetector.Config c, boolean countAbsorbed) {
    int n = ls.size();
    if (margins.length < n) {
      margins = new double[n];
    }
    int valid = 0;
    int absorbedRows = 0;
    for (int i = 0; i < n; i++) {
      double[] row = ls.rows()[i];
      double rm = SoftmaxNumerics.margin(row, ls.labels()[i]);
      if (Double.isNaN(rm)) {
        continue;
      }
      margins[valid++] = rm;
      if (countAbsorbed && SoftmaxNumerics.absorbs(row, ls.labels()[i], dt, c.reductionLanes())) {
        absorbedRows++;
      }
    }
    if (valid == 0) {
      return false;
    }
    marginQuantile = quantile(margins, valid, c.marginQuantile());
    absorbedShare = (double) absorbedRows / valid;
    return true;
  }

  /** The {@code margin_quantile} of the valid rows' label margins. */
  double marginQuantile() {
    return marginQuantile;
  }

  /** Absorbed rows / valid rows (0 when not counted). */
  double absorbedShare() {
    return absorbedShare;
  }

  /** Linear-interpolated quantile of the first n values (sorts them in place). */
  static double quantile(double[] v, int n, double q) {
    Arrays.sort(v, 0, n);
    double pos = Math.max(0, Math.min(1, q)) * (n - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(n - 1, lo + 1);
    return v[lo] + (pos - lo) * (v[hi] - v[lo]);
  }
}
