package dev.trainwatch.jobs.detect.collapse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.trainwatch.wire.LogitsSample;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.Arrays;
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

  @ParameterizedTest(name = "{0}: margin {1} over {2} classes absorbs = {3}")
  @CsvSource({
      "FLOAT32,  16.60, 2,  false", "FLOAT32,  16.67, 2,  true",
      "FLOAT32,  16.50, 97, false", "FLOAT32,  16.75, 97, true",
      "BFLOAT16, 5.50,  2,  false", "BFLOAT16, 5.60,  2,  true",
      "BFLOAT16, 5.40,  97, false", "BFLOAT16, 5.70,  97, true",
      "FLOAT16,  7.60,  2,  false", "FLOAT16,  7.65,  2,  true",
      "FLOAT16,  7.50,  97, false", "FLOAT16,  7.75,  97, true",
      "FLOAT64,  36.70, 2,  false", "FLOAT64,  36.78, 2,  true",
      "FLOAT64,  17.00, 97, false",
  })
  void absorbsExactlyAboveSignificandBitsTimesLn2(Dtype dtype, double r, int classes,
      boolean absorbs) {
    double[] row = rowWithMargin(r, classes);
    assertThat(SoftmaxNumerics.margin(row, 0)).isCloseTo(r, within(1e-9));
    assertThat(SoftmaxNumerics.absorbs(row, 0, dtype)).isEqualTo(absorbs);
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
    assertThat(SoftmaxNumerics.absorbs(new double[] {Double.POSITIVE_INFINITY, 0}, 0,
        Dtype.FLOAT32)).isFalse();
    assertThat(SoftmaxNumerics.absorbs(null, 0, Dtype.FLOAT32)).isFalse();
  }

  /**
   * Real float32 rows of the public collapse runs hover right at the limit once absorbed (their
   * gradient is zero). Rows within 0.003 nats either side of 24 ln 2 are classified exactly.
   */
  @ParameterizedTest(name = "{0} step {1} row {2} absorbs = {3}")
  @CsvSource({
      "sc-mlp-p97-lr3e-3-s1, 2750, 5, false", // r = 16.6333, 0.002 below the limit
      "sc-mlp-p97-lr5e-3-s3, 2400, 6, true",  // r = 16.6372, 0.002 above
      "sc-mlp-p97-lr3e-3-s1, 3050, 5, true",  // r = 16.6374
      "sc-mlp-p97-lr3e-3-s2, 2750, 0, false", // r = 16.6210
  })
  void classifiesRealFloat32RowsAtTheBoundary(String run, long step, int row, boolean absorbs) {
    LogitsSample ls = Traces.load(run).stream().filter(r -> r.step() == step)
        .findFirst().orElseThrow().logits();
    assertThat(ls.dtype()).isEqualTo("float32");
    assertThat(SoftmaxNumerics.absorbs(ls.rows()[row], ls.labels()[row], Dtype.FLOAT32))
        .isEqualTo(absorbs);
  }

  @Test
  void everyRealFloat32RowAbsorbsExactlyWhenItsMarginPassesTheLimit() {
    int rows = 0;
    int absorbed = 0;
    for (String run : List.of("sc-mlp-p97-lr3e-3-s1", "sc-mlp-p97-lr3e-3-s2",
        "sc-mlp-p97-lr5e-3-s3")) {
      for (TelemetryRecord r : Traces.load(run)) {
        LogitsSample ls = r.logits();
        if (ls == null) {
          continue;
        }
        for (int i = 0; i < ls.size(); i++) {
          double m = SoftmaxNumerics.margin(ls.rows()[i], ls.labels()[i]);
          boolean a = SoftmaxNumerics.absorbs(ls.rows()[i], ls.labels()[i], Dtype.FLOAT32);
          assertThat(a).as("%s step %d row %d margin %f", run, r.step(), i, m)
              .isEqualTo(m > Dtype.FLOAT32.absorptionLimit());
          assertThat(floatSoftmaxOfLabelIsOne(ls.rows()[i], ls.labels()[i])).isEqualTo(a);
          rows++;
          absorbed += a ? 1 : 0;
        }
      }
    }
    assertThat(rows).isGreaterThan(1000);
    assertThat(absorbed).isGreaterThan(100);
  }

  /** Independent check in plain Java float arithmetic: tail first, then 1 + tail. */
  private static boolean floatSoftmaxOfLabelIsOne(double[] row, int label) {
    float[] z = new float[row.length];
    for (int k = 0; k < row.length; k++) {
      z[k] = (float) row[k];
    }
    float max = z[0];
    for (float v : z) {
      max = Math.max(max, v);
    }
    float tail = 0f;
    float top = 0f;
    for (int k = 0; k < z.length; k++) {
      float e = (float) Math.exp(z[k] - max);
      if (k == label) {
        top = e;
      } else {
        tail += e;
      }
    }
    return top / (top + tail) == 1.0f && !Arrays.equals(z, new float[z.length]);
  }
}
