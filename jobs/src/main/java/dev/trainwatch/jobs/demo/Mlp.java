package dev.trainwatch.jobs.demo;

/**
 * A bias-free ReLU multilayer perceptron in float32, with hand-written backpropagation.
 *
 * <p>Weights of layer l are a row-major {@code in x out} block of {@link Params}. Matrix
 * products skip zero inputs, so one-hot inputs (modular addition) cost an embedding lookup
 * instead of a dense product, and dead ReLUs cost nothing.
 *
 * <pre>{@code
 * Mlp mlp = new Mlp(new int[] {46, 64, 23}, 1f, new Rng(0));
 * float[] logits = mlp.forward(x, n);
 * mlp.params().zeroGrad();
 * mlp.backward(dlogits, n);
 * }</pre>
 */
final class Mlp {

  private final int[] sizes;
  private final int[] offsets;
  private final Params params;
  private float[][] acts; // acts[l]: input of layer l for the last forward batch

  /**
   * @param initGain multiplies the He-initialisation standard deviation sqrt(2 / fan_in);
   *     larger values start the logits larger (faster softmax saturation)
   */
  Mlp(int[] sizes, float initGain, Rng rng) {
    this.sizes = sizes.clone();
    int total = 0;
    for (int l = 0; l + 1 < sizes.length; l++) {
      total += sizes[l] * sizes[l + 1];
    }
    this.params = new Params(total);
    this.offsets = new int[sizes.length - 1];
    for (int l = 0; l + 1 < sizes.length; l++) {
      float std = initGain * (float) Math.sqrt(2.0 / sizes[l]);
      offsets[l] = params.allocate(sizes[l] * sizes[l + 1], std, rng);
    }
  }

  Params params() {
    return params;
  }

  int outputs() {
    return sizes[sizes.length - 1];
  }

  /** Logits ({@code n x outputs}) of a batch of {@code n} rows; keeps activations for backward. */
  float[] forward(float[] x, int n) {
    int layers = offsets.length;
    acts = new float[layers][];
    float[] a = x;
    for (int l = 0; l < layers; l++) {
      acts[l] = a;
      float[] z = new float[n * sizes[l + 1]];
      FloatMath.matmul(a, n, sizes[l], params.w, offsets[l], sizes[l + 1], z);
      if (l + 1 < layers) {
        FloatMath.reluInPlace(z);
      }
      a = z;
    }
    return a;
  }

  /** Adds the gradient of the loss, given dLoss/dLogits of the last forward batch, to params.g. */
  void backward(float[] dlogits, int n) {
    float[] d = dlogits;
    for (int l = offsets.length - 1; l >= 0; l--) {
      FloatMath.accumulateWeightGrad(acts[l], n, sizes[l], d, sizes[l + 1], params.g, offsets[l]);
      if (l > 0) {
        float[] dx = FloatMath.matmulTransposed(d, n, sizes[l + 1], params.w, offsets[l], sizes[l]);
        FloatMath.reluBackwardInPlace(dx, acts[l]);
        d = dx;
      }
    }
  }
}
