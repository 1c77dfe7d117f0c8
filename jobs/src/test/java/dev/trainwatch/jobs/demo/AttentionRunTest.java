package dev.trainwatch.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AttentionRunTest {

  @Test
  void tooLargeLearningRateGrowsAttentionLogitsCollapsesEntropyAndRaisesTheLoss() {
    Trace t =
        Trace.of(
            new AttentionRun(
                "run", "kind", DemoScenario.ATTENTION_DIVERGE, DemoScenario.DEFAULT_SEED, Trace.FIXED_CLOCK));

    int growth = t.firstStepAtLeast("attn/max_logit", 100);
    assertThat(growth).isBetween(50, 400);
    double[] entropy = t.series("attn/entropy_min");
    assertThat(Trace.max(entropy, 0, 100)).isGreaterThan(1.0); // spread attention while it trains
    assertThat(Trace.max(entropy, 400, 600)).isLessThan(0.1); // one-hot once it has diverged
    double[] loss = t.series("loss");
    double best = Double.POSITIVE_INFINITY;
    for (int i = 20; i <= 200; i++) {
      best = Math.min(best, Trace.mean(loss, i - 20, i));
    }
    for (int i = 300; i <= 600; i += 20) {
      assertThat(Trace.mean(loss, i - 20, i)).as("20-step mean loss before step %d", i).isGreaterThan(1.5 * best);
    }
  }
}
