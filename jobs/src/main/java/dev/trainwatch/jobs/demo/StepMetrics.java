package dev.trainwatch.jobs.demo;

import dev.trainwatch.wire.LogitsSample;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Takes one optimizer step and measures it: the FORMAT.md metrics that come from the model
 * state (gradient and parameter norms, update ratio, gradient/weight cosine) and from the
 * batch logits. Norms are measured on the weights the gradient was computed at.
 *
 * <p>Only the softmax-collapse runs publish {@code logits/zero_loss_frac} and
 * {@code logits/absorbed_frac}, as in the public traces: a diverging or continual-learning
 * run also saturates a few per cent of its samples now and then, and publishing that would
 * make the demo's collapse alert fire on the wrong family.
 */
final class StepMetrics {

  private StepMetrics() {}

  static Map<String, Double> step(
      Params p, Optimizer optimizer, float lr, SoftmaxCrossEntropy.Result batch, boolean saturation) {
    double gradSq = FloatMath.sumSquares(p.g);
    double paramSq = FloatMath.sumSquares(p.w);
    double negGradDotW = -FloatMath.dot(p.g, p.w);
    double updateSq = optimizer.step(p, lr);
    double paramNorm = Math.sqrt(paramSq);
    double gradNorm = Math.sqrt(gradSq);
    SoftmaxCrossEntropy.LogitStats s = batch.stats();
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss", (double) batch.loss());
    m.put("lr", (double) lr);
    m.put("grad_norm", gradNorm);
    m.put("param_norm", paramNorm);
    m.put("update_ratio", paramNorm == 0 ? 0.0 : Math.sqrt(updateSq) / paramNorm);
    m.put("grad_weight_cos", gradNorm * paramNorm == 0 ? 0.0 : negGradDotW / (gradNorm * paramNorm));
    m.put("logits/max_abs", s.maxAbs());
    m.put("logits/margin_mean", s.marginMean());
    m.put("logits/lse_mean", s.lseMean());
    if (saturation) {
      m.put("logits/zero_loss_frac", s.zeroLossFrac());
      m.put("logits/absorbed_frac", s.absorbedFrac());
    }
    m.put("train/acc", s.accuracy());
    return m;
  }

  /** The first {@code k} rows of a batch's float32 logits with their labels. */
  static LogitsSample sample(float[] logits, int n, int c, int[] labels, int k) {
    int rows = Math.min(k, n);
    int[] l = new int[rows];
    double[][] r = new double[rows][c];
    for (int i = 0; i < rows; i++) {
      l[i] = labels[i];
      for (int j = 0; j < c; j++) {
        r[i][j] = logits[i * c + j];
      }
    }
    return new LogitsSample("float32", l, r);
  }
}
