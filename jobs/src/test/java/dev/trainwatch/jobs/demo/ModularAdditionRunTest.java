package dev.trainwatch.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ModularAdditionRunTest {

  /** Trained once: 1000 full-batch steps cost about a second of CPU. */
  private static Trace collapse;

  @BeforeAll
  static void trainCollapseRun() {
    collapse = train(DemoScenario.COLLAPSE, DemoScenario.DEFAULT_SEED);
  }

  private static Trace train(ModularAdditionRun.Config c, long seed) {
    return Trace.of(new ModularAdditionRun("run", "kind", c, seed, Trace.FIXED_CLOCK));
  }

  @Test
  void collapseRunAbsorbsHalfItsTrainingSetWithinItsStepBudget() {
    assertCollapses(collapse);
  }

  @Test
  void collapseDoesNotDependOnALuckySeed() {
    assertCollapses(train(DemoScenario.COLLAPSE, 2));
  }

  private static void assertCollapses(Trace t) {

    int onset = t.firstStepAtLeast("logits/absorbed_frac", 0.5);
    assertThat(onset).isBetween(300, 900);
    // absorbed samples have a per-sample float32 loss of exactly 0 (here: over 130 of 265 pairs)
    assertThat(t.records().get(onset).metrics().get("logits/zero_loss_frac")).isGreaterThanOrEqualTo(0.5);
    // the model had memorised the training set long before: collapse follows, it does not cause, fitting
    assertThat(t.firstStepAtLeast("train/acc", 1.0)).isLessThan(onset - 200);
  }

  @Test
  void weightDecayTwinNeverSaturatesTheSoftmax() {
    Trace t = train(DemoScenario.COLLAPSE_WEIGHT_DECAY, DemoScenario.DEFAULT_SEED);

    double[] absorbed = t.series("logits/absorbed_frac");
    assertThat(Trace.max(absorbed, 0, absorbed.length)).isZero();
    double[] margin = t.series("logits/margin_mean");
    assertThat(Trace.max(margin, 0, margin.length)).isLessThan(16.64 - 4); // far from 24 ln 2
    assertThat(t.firstStepAtLeast("train/acc", 1.0)).isBetween(0, 500);
  }

  @Test
  void publishesRawLogitRowsAndHeldOutAccuracyPeriodically() {
    Trace t = collapse;

    assertThat(t.records().get(0).logits().rows()[0]).hasSize(23);
    assertThat(t.records().get(ModularAdditionRun.SAMPLE_EVERY).logits()).isNotNull();
    assertThat(t.records().get(1).logits()).isNull();
    assertThat(t.records().get(ModularAdditionRun.EVAL_EVERY).metrics().has("eval/acc")).isTrue();
  }
}
