package dev.trainwatch.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class SoftmaxCrossEntropyTest {

  @Test
  void lossIsExactlyZeroOnceFloat32AbsorbsEveryOtherClass() {
    // margin 17 > 24 ln 2 = 16.64: exp(-17) * 2 is below half an ulp of 1.0f
    float[] logits = {17f, 0f, 0f, 1f, 0f, 0f};
    SoftmaxCrossEntropy.Result r = SoftmaxCrossEntropy.of(logits, 2, 3, new int[] {0, 0});

    assertThat(r.stats().absorbedFrac()).isEqualTo(0.5);
    assertThat(r.stats().zeroLossFrac()).isEqualTo(0.5);
    assertThat(r.dlogits()[0]).isZero(); // true-class gradient of the absorbed row vanishes exactly
    assertThat(r.dlogits()[3]).isNegative();
  }

  @Test
  void marginJustBelowFloat32ThresholdKeepsANonZeroLoss() {
    float[] logits = {15f, 0f, 0f};
    SoftmaxCrossEntropy.Result r = SoftmaxCrossEntropy.of(logits, 1, 3, new int[] {0});

    assertThat(r.stats().absorbedFrac()).isZero();
    assertThat(r.loss()).isPositive();
  }

  @Test
  void uniformLogitsGiveLogOfClassCount() {
    SoftmaxCrossEntropy.Result r = SoftmaxCrossEntropy.of(new float[10], 1, 10, new int[] {3});

    assertThat((double) r.loss()).isCloseTo(Math.log(10), within(1e-6));
    assertThat(r.stats().lseMean()).isCloseTo(Math.log(10), within(1e-6));
    assertThat(r.stats().marginMean()).isZero();
  }
}
