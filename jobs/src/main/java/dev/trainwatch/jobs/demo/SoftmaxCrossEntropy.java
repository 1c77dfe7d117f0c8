package dev.trainwatch.jobs.demo;

/**
 * Mean softmax cross-entropy of a batch, its gradient and the logit statistics of FORMAT.md,
 * all computed in float32 the way PyTorch's {@code log_softmax} does it.
 *
 * <p>Per row: {@code m = max z}, {@code s = sum exp(z - m)}, {@code log_softmax = (z - m) - log s},
 * {@code loss = -log_softmax[y]}. When every other term is absorbed into {@code s == 1} and
 * {@code y} is the arg-max, the loss is exactly 0 and the true-class gradient
 * {@code exp(log_softmax[y]) - 1} is exactly 0: softmax collapse, reproduced bit for bit
 * rather than modelled.
 */
final class SoftmaxCrossEntropy {

  private SoftmaxCrossEntropy() {}

  /** What one batch gave. {@code dlogits} is dLoss/dLogits of the mean loss (n x c). */
  record Result(float loss, LogitStats stats, float[] dlogits) {}

  /** Batch statistics of the logits, named after the FORMAT.md metrics. */
  record LogitStats(
      double maxAbs,
      double marginMean,
      double lseMean,
      double zeroLossFrac,
      double absorbedFrac,
      double accuracy) {}

  static Result of(float[] logits, int n, int c, int[] labels) {
    float[] dlogits = new float[n * c];
    double lossSum = 0;
    double marginSum = 0;
    double lseSum = 0;
    float maxAbs = 0f;
    int zeroLoss = 0;
    int absorbed = 0;
    int correct = 0;
    for (int i = 0; i < n; i++) {
      int row = i * c;
      int y = labels[i];
      float top1 = Float.NEGATIVE_INFINITY;
      float top2 = Float.NEGATIVE_INFINITY;
      int arg = 0;
      for (int k = 0; k < c; k++) {
        float z = logits[row + k];
        maxAbs = Math.max(maxAbs, Math.abs(z));
        if (z > top1) {
          top2 = top1;
          top1 = z;
          arg = k;
        } else if (z > top2) {
          top2 = z;
        }
      }
      float s = 0f;
      for (int k = 0; k < c; k++) {
        s += (float) Math.exp(logits[row + k] - top1);
      }
      float logS = (float) Math.log(s);
      float loss = -((logits[row + y] - top1) - logS);
      float pTrue = (float) Math.exp(logits[row + y] - top1) / s;
      for (int k = 0; k < c; k++) {
        float p = (float) Math.exp((logits[row + k] - top1) - logS);
        dlogits[row + k] = (k == y ? p - 1f : p) / n;
      }
      lossSum += loss;
      lseSum += top1 + logS;
      marginSum += top1 - top2;
      zeroLoss += loss == 0f ? 1 : 0;
      absorbed += pTrue == 1f ? 1 : 0;
      correct += arg == y ? 1 : 0;
    }
    LogitStats stats =
        new LogitStats(
            maxAbs, marginSum / n, lseSum / n, (double) zeroLoss / n, (double) absorbed / n,
            (double) correct / n);
    return new Result((float) (lossSum / n), stats, dlogits);
  }

  /** Fraction of rows whose arg-max is the label (evaluation only; no gradient). */
  static double accuracy(float[] logits, int n, int c, int[] labels) {
    int correct = 0;
    for (int i = 0; i < n; i++) {
      int arg = 0;
      for (int k = 1; k < c; k++) {
        if (logits[i * c + k] > logits[i * c + arg]) {
          arg = k;
        }
      }
      correct += arg == labels[i] ? 1 : 0;
    }
    return (double) correct / n;
  }
}
