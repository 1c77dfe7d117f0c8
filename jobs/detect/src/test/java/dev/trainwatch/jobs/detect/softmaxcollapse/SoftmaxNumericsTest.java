package dev.trainwatch.jobs.detect.softmaxcollapse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.trainwatch.wire.LogitsSample;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SoftmaxNumericsTest {

  /** label 0 at {@code r + ln(n-1)}, n-1 other classes at 0: the label margin is exactly r. */
  private static double[] rowWithMargin(double r, int classes) {
    double[] row = new double[classes];
    row[0] = r + Math.log(classes - 1);
    return row;
  }

  /**
   * Two classes: the 1.0 meets the single other term, so absorption starts exactly at {@code p ln
   * 2}. 97 uniform classes in 8 lanes: the 1.0 meets the others in groups, the largest (the other
   * half of the lanes) last, so absorption starts at {@code (p-1) ln 2}.
   */
  @ParameterizedTest(name = "{0}: margin {1} over {2} classes absorbs = {3}")
  @CsvSource({
    "FLOAT32,  16.60, 2,  false", "FLOAT32,  16.67, 2,  true",
    "FLOAT32,  15.85, 97, false", "FLOAT32,  16.05, 97, true",
    "BFLOAT16, 5.50,  2,  false", "BFLOAT16, 5.60,  2,  true",
    "BFLOAT16, 4.75,  97, false", "BFLOAT16, 4.95,  97, true",
    "FLOAT16,  7.60,  2,  false", "FLOAT16,  7.65,  2,  true",
    "FLOAT16,  6.83,  97, false", "FLOAT16,  7.03,  97, true",
    "FLOAT64,  36.70, 2,  false", "FLOAT64,  36.78, 2,  true",
    "FLOAT64,  17.00, 97, false",
  })
  void absorbsFromSignificandBitsTimesLn2(Dtype dtype, double r, int classes, boolean absorbs) {
    double[] row = rowWithMargin(r, classes);
    assertThat(SoftmaxNumerics.margin(row, 0)).isCloseTo(r, within(1e-9));
    assertThat(SoftmaxNumerics.absorbs(row, 0, dtype)).isEqualTo(absorbs);
  }

  @Test
  void sequentialSumAbsorbsOnceEachTermAloneIsBelowHalfAnUlp() {
    // label first, 96 equal terms each just under 2^-24: a sequential sum drops every one
    double r = Dtype.FLOAT32.absorptionLimit() - Math.log(96) + 0.05;
    double[] row = rowWithMargin(r, 97);
    assertThat(SoftmaxNumerics.absorbs(row, 0, Dtype.FLOAT32, 1)).isTrue();
    assertThat(SoftmaxNumerics.absorbs(row, 0, Dtype.FLOAT32, 8)).isFalse();
    assertThat(SoftmaxNumerics.absorbs(row, 0, Dtype.FLOAT32, 3)).isFalse(); // not a power of 2
  }

  @Test
  void aLabelThatIsNotTheArgmaxNeverAbsorbs() {
    double[] row = {0.0, 100.0, -3.0};
    assertThat(SoftmaxNumerics.absorbs(row, 0, Dtype.BFLOAT16)).isFalse();
    assertThat(SoftmaxNumerics.absorbs(row, 1, Dtype.BFLOAT16)).isTrue();
    assertThat(SoftmaxNumerics.margin(row, 0)).isCloseTo(-100.0, within(1e-9));
  }

  @Test
  void aTiedMaximumIsNotAbsorbed() {
    assertThat(SoftmaxNumerics.absorbs(new double[] {50, 50, 0}, 0, Dtype.FLOAT32)).isFalse();
  }

  @Test
  void invalidRowsGiveNanMarginAndNoAbsorption() {
    assertThat(SoftmaxNumerics.margin(new double[] {1, Double.NaN}, 0)).isNaN();
    assertThat(SoftmaxNumerics.margin(new double[] {1, 2}, 5)).isNaN();
    assertThat(SoftmaxNumerics.margin(new double[] {1}, 0)).isNaN();
    assertThat(
            SoftmaxNumerics.absorbs(new double[] {Double.POSITIVE_INFINITY, 0}, 0, Dtype.FLOAT32))
        .isFalse();
    assertThat(SoftmaxNumerics.absorbs(null, 0, Dtype.FLOAT32)).isFalse();
  }

  /**
   * Real float32 rows of the public collapse runs, classified by an independent numpy float32
   * emulation of the same 8-lane reduction. Absorption is not monotone in the margin near the
   * limit: it depends on which lane holds the label and how the tail spreads over the lanes.
   */
  @ParameterizedTest(name = "{0} step {1} row {2} absorbs = {3}")
  @CsvSource({
    "sc-mlp-p97-lr3e-3-s1, 2300, 4, true", // r = 15.9159: 0.72 below p ln 2, yet absorbed
    "sc-mlp-p97-lr3e-3-s1, 2300, 5, false", // r = 16.5928
    "sc-mlp-p97-lr3e-3-s1, 2200, 2, true", // r = 15.9765
    "sc-mlp-p97-lr3e-3-s1, 2750, 5, true", // r = 16.6333
    "sc-mlp-p97-lr3e-3-s1, 3050, 4, false", // r = 16.1455
    "sc-mlp-p97-lr3e-3-s1, 3050, 3, true", // r = 16.6520, past the limit: always absorbed
  })
  void classifiesRealFloat32RowsLikePytorch(String run, long step, int row, boolean absorbs) {
    LogitsSample ls =
        Traces.load(run).stream().filter(r -> r.step() == step).findFirst().orElseThrow().logits();
    assertThat(ls.dtype()).isEqualTo("float32");
    assertThat(SoftmaxNumerics.absorbs(ls.rows()[row], ls.labels()[row], Dtype.FLOAT32))
        .isEqualTo(absorbs);
  }

  /**
   * 8 sampled rows per logged step reproduce the full-batch absorbed fraction PyTorch published for
   * the same step, and the margin bounds hold on every row.
   */
  @Test
  void realRowsReproduceThePublishedAbsorbedFraction() {
    double limit = Dtype.FLOAT32.absorptionLimit();
    double sqErr = 0;
    double published = 0;
    double recomputed = 0;
    int steps = 0;
    for (String run :
        List.of("sc-mlp-p97-lr3e-3-s1", "sc-mlp-p97-lr3e-3-s2", "sc-mlp-p97-lr5e-3-s3")) {
      for (TelemetryRecord r : Traces.load(run)) {
        LogitsSample ls = r.logits();
        if (ls == null) {
          continue;
        }
        int absorbed = 0;
        for (int i = 0; i < ls.size(); i++) {
          double m = SoftmaxNumerics.margin(ls.rows()[i], ls.labels()[i]);
          boolean a = SoftmaxNumerics.absorbs(ls.rows()[i], ls.labels()[i], Dtype.FLOAT32);
          if (m > limit) {
            assertThat(a).as("%s step %d row %d margin %f", run, r.step(), i, m).isTrue();
          }
          if (m < limit - Math.log(16)) { // 16 >= the groups the 1.0 can meet with 8 lanes
            assertThat(a).as("%s step %d row %d margin %f", run, r.step(), i, m).isFalse();
          }
          absorbed += a ? 1 : 0;
        }
        double frac = (double) absorbed / ls.size();
        double pub = r.metrics().get("logits/absorbed_frac");
        sqErr += (frac - pub) * (frac - pub);
        published += pub;
        recomputed += frac;
        steps++;
      }
    }
    assertThat(steps).isGreaterThan(200);
    assertThat(sqErr / steps).isLessThan(0.015); // 8-row sampling noise alone is ~0.01
    assertThat(recomputed / published).isBetween(0.8, 1.2);
  }
}
