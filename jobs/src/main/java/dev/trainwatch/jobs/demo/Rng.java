package dev.trainwatch.jobs.demo;

import java.util.SplittableRandom;

/**
 * Seeded randomness for the demo trainers.
 *
 * <p>Gaussians come from our own Box-Muller rather than {@code RandomGenerator.nextGaussian},
 * whose algorithm the JDK may change between releases: the demo promises that the same
 * seed gives the same records.
 */
final class Rng {

  private final SplittableRandom random;

  Rng(long seed) {
    this.random = new SplittableRandom(seed);
  }

  int nextInt(int bound) {
    return random.nextInt(bound);
  }

  float gaussian() {
    double u1 = 1.0 - random.nextDouble(); // in (0, 1], so the log is finite
    double u2 = random.nextDouble();
    return (float) (Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2));
  }

  /** Fisher-Yates shuffle of {@code 0..n-1}. */
  int[] permutation(int n) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
