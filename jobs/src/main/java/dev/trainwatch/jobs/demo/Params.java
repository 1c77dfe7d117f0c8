package dev.trainwatch.jobs.demo;

/**
 * All parameters of a model in one flat float32 vector, with a gradient of the same shape.
 *
 * <p>Why flat: the optimisers, the global norms and the gradient/weight cosine that the
 * telemetry reports are then plain loops over one array, with no per-layer bookkeeping.
 * Layers address their weights through the offset {@link #allocate} returned.
 */
final class Params {

  final float[] w;
  final float[] g;
  private int used;

  Params(int size) {
    this.w = new float[size];
    this.g = new float[size];
  }

  /** Reserves {@code n} values, filled with N(0, std^2); returns their offset. */
  int allocate(int n, float std, Rng rng) {
    if (used + n > w.length) {
      throw new IllegalStateException("Params sized " + w.length + " cannot hold " + (used + n));
    }
    int offset = used;
    for (int i = 0; i < n; i++) {
      w[offset + i] = std * rng.gaussian();
    }
    used += n;
    return offset;
  }

  int size() {
    return w.length;
  }

  void zeroGrad() {
    java.util.Arrays.fill(g, 0f);
  }
}
