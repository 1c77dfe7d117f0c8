package dev.trainwatch.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class MlpTest {

  @Test
  void backwardMatchesFiniteDifferencesOfTheLoss() {
    Rng rng = new Rng(3);
    Mlp mlp = new Mlp(new int[] {5, 7, 4}, 1f, rng);
    int n = 6;
    float[] x = new float[n * 5];
    for (int i = 0; i < x.length; i++) {
      x[i] = rng.gaussian();
    }
    int[] y = {0, 1, 2, 3, 1, 2};
    Params p = mlp.params();
    p.zeroGrad();
    mlp.backward(SoftmaxCrossEntropy.of(mlp.forward(x, n), n, 4, y).dlogits(), n);

    for (int i = 0; i < p.size(); i += 3) {
      float saved = p.w[i];
      p.w[i] = saved + 1e-2f;
      double up = SoftmaxCrossEntropy.of(mlp.forward(x, n), n, 4, y).loss();
      p.w[i] = saved - 1e-2f;
      double down = SoftmaxCrossEntropy.of(mlp.forward(x, n), n, 4, y).loss();
      p.w[i] = saved;
      assertThat((double) p.g[i]).as("param %d", i).isCloseTo((up - down) / 2e-2, within(2e-3));
    }
  }
}
