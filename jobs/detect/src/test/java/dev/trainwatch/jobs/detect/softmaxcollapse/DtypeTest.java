package dev.trainwatch.jobs.detect.softmaxcollapse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DtypeTest {

  @ParameterizedTest(name = "{0} rounds {1} to {2}")
  @CsvSource({
    // bf16: 8 significand bits, ulp(1) = 2^-7
    "BFLOAT16, 1.0,              1.0",
    "BFLOAT16, 1.00390625,       1.0", // 1 + 2^-8: tie, to even
    "BFLOAT16, 1.01171875,       1.015625", // 1 + 3*2^-8: tie, to even (1 + 2^-6)
    "BFLOAT16, 1.0040,           1.0078125", // just above the tie
    "BFLOAT16, 3.14159265,       3.140625",
    "BFLOAT16, 0.1,              0.10009765625",
    "BFLOAT16, 3.4e38,           Infinity", // rounds past the largest bf16
    // fp16: 11 significand bits, max 65504, subnormal quantum 2^-24
    "FLOAT16,  0.3333333333333333, 0.333251953125",
    "FLOAT16,  1.00048828125,    1.0", // 1 + 2^-11: tie, to even
    "FLOAT16,  65504,            65504",
    "FLOAT16,  65519.99,         65504",
    "FLOAT16,  65520,            Infinity", // half an ulp above max: overflows
    "FLOAT16,  -70000,           -Infinity",
    "FLOAT16,  5.960464477539063e-8, 5.960464477539063e-8", // 2^-24, smallest subnormal
    "FLOAT16,  2.9802322387695312e-8, 0.0", // 2^-25: tie between 0 and 2^-24, to even
    "FLOAT16,  8.940696716308594e-8, 1.1920928955078125e-7", // 1.5 * 2^-24 -> 2^-23
    // fp32 and fp64
    "FLOAT32,  0.1,              0.10000000149011612",
    "FLOAT32,  1.00000005960464478, 1.0", // 1 + 2^-24: tie, to even
    "FLOAT64,  0.1,              0.1",
  })
  void roundsToNearestEven(Dtype dtype, double x, double expected) {
    assertThat(dtype.round(x)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} has limit {1}")
  @CsvSource({"BFLOAT16, 5.545", "FLOAT16, 7.625", "FLOAT32, 16.636", "FLOAT64, 36.737"})
  void absorptionLimitIsSignificandBitsTimesLn2(Dtype dtype, double limit) {
    assertThat(dtype.absorptionLimit()).isCloseTo(limit, within(1e-3));
  }

  @ParameterizedTest(name = "''{0}'' is {1}")
  @CsvSource({
    "float32, FLOAT32",
    "torch.bfloat16, BFLOAT16",
    "bf16, BFLOAT16",
    "half, FLOAT16",
    "Float64, FLOAT64",
    "fp16, FLOAT16",
    "int8, FLOAT32"
  })
  void parsesCommonNamesAndFallsBack(String name, Dtype expected) {
    assertThat(Dtype.parse(name, Dtype.FLOAT32)).isEqualTo(expected);
  }

  @org.junit.jupiter.api.Test
  void nanPassesThroughEveryFormat() {
    for (Dtype d : Dtype.values()) {
      assertThat(d.round(Double.NaN)).isNaN();
    }
  }
}
