package dev.trainwatch.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LearningRateRunTest {

  private static final int WINDOW = 20;

  /** First step from which the 20-step mean loss stays above 1.5x its running minimum, or -1. */
  private static int sustainedRiseStep(double[] loss) {
    double runningMin = Double.POSITIVE_INFINITY;
    int riseFrom = -1;
    for (int i = WINDOW - 1; i < loss.length; i++) {
      double mean = Trace.mean(loss, i - WINDOW + 1, i + 1);
      runningMin = Math.min(runningMin, mean);
      if (mean > 1.5 * runningMin) {
        riseFrom = riseFrom < 0 ? i : riseFrom;
      } else {
        riseFrom = -1;
      }
    }
    return riseFrom;
  }

  private static Trace train(LearningRateRun.Config c) {
    return Trace.of(new LearningRateRun("run", "kind", c, DemoScenario.DEFAULT_SEED, Trace.FIXED_CLOCK));
  }

  @Test
  void tooLargeLearningRateRaisesTheLossAboveOneAndAHalfTimesItsMinimumForGood() {
    double[] loss = train(DemoScenario.DIVERGE).series("loss");

    int rise = sustainedRiseStep(loss);
    assertThat(rise).isBetween(100, 400); // leaves >= 200 steps of sustained divergence
    assertThat(Trace.mean(loss, loss.length - 50, loss.length)).isGreaterThan(2.0);
  }

  @Test
  void modestLearningRateNeverRisesAboveOneAndAHalfTimesItsMinimum() {
    double[] loss = train(DemoScenario.STABLE_LR).series("loss");

    assertThat(sustainedRiseStep(loss)).isEqualTo(-1);
    assertThat(Trace.mean(loss, loss.length - 50, loss.length)).isLessThan(1.0);
  }

  @Test
  void reportsTheLearningRateInForceDuringWarmup() {
    double[] lr = train(DemoScenario.DIVERGE).series("lr");

    assertThat(lr[0]).isEqualTo(0.2 / 400, org.assertj.core.api.Assertions.within(1e-7));
    assertThat(lr[399]).isEqualTo(0.2f);
    assertThat(lr[599]).isEqualTo(0.2f);
  }
}
