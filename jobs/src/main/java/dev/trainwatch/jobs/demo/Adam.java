package dev.trainwatch.jobs.demo;

/**
 * Adam with bias correction, or AdamW when {@code weightDecay > 0} (decoupled decay applied
 * before the moment update, as {@code torch.optim.AdamW} does).
 *
 * <p>Adam matters to the demo: it normalises the gradient, so even after the loss is tiny it
 * keeps moving the weights at about {@code lr} per step along the margin-growing direction,
 * which is what drives the logits into float32 saturation.
 */
final class Adam implements Optimizer {

  private final float beta1;
  private final float beta2;
  private final float eps;
  private final float weightDecay;
  private float[] m;
  private float[] v;
  private int t;

  Adam(float beta1, float beta2, float eps, float weightDecay) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  @Override
  public double step(Params p, float lr) {
    if (m == null) {
      m = new float[p.size()];
      v = new float[p.size()];
    }
    t++;
    float bc1 = 1f - (float) Math.pow(beta1, t);
    float bc2Sqrt = (float) Math.sqrt(1.0 - Math.pow(beta2, t));
    float stepSize = lr / bc1;
    double sq = 0;
    for (int i = 0; i < p.w.length; i++) {
      float before = p.w[i];
      float w = before * (1f - lr * weightDecay);
      float g = p.g[i];
      m[i] = beta1 * m[i] + (1f - beta1) * g;
      v[i] = beta2 * v[i] + (1f - beta2) * g * g;
      float denom = (float) Math.sqrt(v[i]) / bc2Sqrt + eps;
      w -= stepSize * m[i] / denom;
      p.w[i] = w;
      double d = w - before;
      sq += d * d;
    }
    return sq;
  }

  @Override
  public String describe() {
    String base = weightDecay > 0 ? "adamw" : "adam";
    return base + "(b2=" + beta2 + ",eps=" + eps + (weightDecay > 0 ? ",wd=" + weightDecay : "") + ")";
  }
}
