package dev.trainwatch.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class AttentionModelTest {

  @Test
  void backwardMatchesFiniteDifferencesOfTheLoss() {
    Rng rng = new Rng(5);
    AttentionModel model = new AttentionModel(6, 4, 3, 3, rng);
    int n = 3;
    int[] tokens = {0, 1, 2, 5, 3, 3, 1, 4, 2, 0, 0, 5};
    int[] y = {0, 2, 1};
    Params p = model.params();
    p.zeroGrad();
    model.backward(SoftmaxCrossEntropy.of(model.forward(tokens, n), n, 3, y).dlogits(), n);

    for (int i = 0; i < p.size(); i++) {
      float saved = p.w[i];
      p.w[i] = saved + 1e-2f;
      double up = SoftmaxCrossEntropy.of(model.forward(tokens, n), n, 3, y).loss();
      p.w[i] = saved - 1e-2f;
      double down = SoftmaxCrossEntropy.of(model.forward(tokens, n), n, 3, y).loss();
      p.w[i] = saved;
      double numeric = (up - down) / 2e-2;
      // central differences in float32 with h = 1e-2: allow their truncation error (~1% here)
      assertThat((double) p.g[i]).as("param %d", i).isCloseTo(numeric, within(3e-3 + 0.01 * Math.abs(numeric)));
    }
  }
}
