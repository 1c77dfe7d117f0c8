package dev.trainwatch.jobs.demo;

/**
 * A synthetic classification problem: class c is the Gaussian {@code N(mu_c, noise^2 I)} with
 * cluster centres drawn once as {@code N(0, separation^2 I)}. Small enough to learn in a few
 * hundred SGD steps, hard enough (overlapping clusters) that the loss never reaches 0.
 */
final class GaussianClusters {

  /** {@code n} rows of {@code x} ({@code n x dim}) with labels {@code y}. */
  record Batch(float[] x, int[] y, int n) {}

  private final int dim;
  private final float noise;
  private final float[][] centres;

  GaussianClusters(int classes, int dim, float separation, float noise, Rng rng) {
    this.dim = dim;
    this.noise = noise;
    this.centres = new float[classes][dim];
    for (float[] c : centres) {
      for (int j = 0; j < dim; j++) {
        c[j] = separation * rng.gaussian();
      }
    }
  }

  int dim() {
    return dim;
  }

  int classes() {
    return centres.length;
  }

  /** {@code n} samples with labels drawn uniformly from {@code labels}. */
  Batch sample(int[] labels, int n, Rng rng) {
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = labels[rng.nextInt(labels.length)];
    }
    return of(y, rng);
  }

  /** One sample per entry of {@code y}, in that order. */
  Batch of(int[] y, Rng rng) {
    float[] x = new float[y.length * dim];
    for (int i = 0; i < y.length; i++) {
      float[] c = centres[y[i]];
      for (int j = 0; j < dim; j++) {
        x[i * dim + j] = c[j] + noise * rng.gaussian();
      }
    }
    return new Batch(x, y.clone(), y.length);
  }

  /** Concatenates two batches (current-task data and replayed samples). */
  static Batch concat(Batch a, Batch b) {
    float[] x = new float[a.x().length + b.x().length];
    System.arraycopy(a.x(), 0, x, 0, a.x().length);
    System.arraycopy(b.x(), 0, x, a.x().length, b.x().length);
    int[] y = new int[a.n() + b.n()];
    System.arraycopy(a.y(), 0, y, 0, a.n());
    System.arraycopy(b.y(), 0, y, a.n(), b.n());
    return new Batch(x, y, a.n() + b.n());
  }
}
