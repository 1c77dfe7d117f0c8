package dev.trainwatch.jobs.detect.collapse;

/**
 * The two per-row quantities behind softmax collapse, computed from raw logits.
 *
 * <p>{@link #margin} is exact maths in double: how far (in nats) the true class stands above
 * the log-sum-exp of all other classes. {@link #absorbs} replays the softmax in the given
 * dtype: the probability of the true class is exactly 1.0 there.
 *
 * <p>Assumption on summation order: the tail {@code sum_{k != max} exp(z_k - z_max)} is
 * accumulated first, in the dtype, and then added to the max's term 1. That is what
 * vectorised and tree reductions (PyTorch CPU/CUDA {@code softmax}, {@code sum}) do in effect,
 * since the tiny terms meet each other before they meet the 1; a strictly sequential
 * {@code 1 + t1 + t2 + ...} would absorb a little earlier (each term alone below half an ulp).
 * Each {@code z_k - z_max}, each {@code exp} and each partial sum is rounded to the dtype
 * (PyTorch sums float32 softmax in float32). For bf16/fp16 PyTorch actually accumulates in
 * float32 and rounds the probability; both absorb at the same margin {@code p ln 2} up to a
 * fraction of a nat.
 *
 * <pre>{@code
 * double r = SoftmaxNumerics.margin(row, label);            // e.g. 15.2
 * boolean one = SoftmaxNumerics.absorbs(row, label, Dtype.FLOAT32);
 * }</pre>
 */
public final class SoftmaxNumerics {

  private SoftmaxNumerics() {}

  /**
   * {@code z_label - log sum_{k != label} exp(z_k)} in double, stably; NaN when the row has
   * fewer than two entries, the label is out of range or any entry is not finite.
   */
  public static double margin(double[] row, int label) {
    if (row == null || row.length < 2 || label < 0 || label >= row.length) {
      return Double.NaN;
    }
    double m = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < row.length; k++) {
      double z = row[k];
      if (!Double.isFinite(z)) {
        return Double.NaN;
      }
      if (k != label && z > m) {
        m = z;
      }
    }
    double s = 0.0;
    for (int k = 0; k < row.length; k++) {
      if (k != label) {
        s += Math.exp(row[k] - m);
      }
    }
    return row[label] - (m + Math.log(s));
  }

  /**
   * True when the softmax probability of {@code label}, computed in {@code dtype}, is exactly
   * 1.0: the label holds the (unique) maximum and {@code 1 + tail} rounds to 1 in the dtype.
   * False for invalid rows (see {@link #margin}).
   */
  public static boolean absorbs(double[] row, int label, Dtype dtype) {
    if (row == null || row.length < 2 || label < 0 || label >= row.length) {
      return false;
    }
    double zl = dtype.round(row[label]);
    if (!Double.isFinite(zl)) {
      return false;
    }
    double tail = 0.0;
    for (int k = 0; k < row.length; k++) {
      if (k == label) {
        continue;
      }
      double z = dtype.round(row[k]);
      if (!Double.isFinite(z) || z >= zl) {
        return false; // another class ties or beats the label: its term alone is 1
      }
      double term = dtype.round(Math.exp(dtype.round(z - zl)));
      tail = dtype.round(tail + term);
    }
    return dtype.round(1.0 + tail) == 1.0;
  }
}
