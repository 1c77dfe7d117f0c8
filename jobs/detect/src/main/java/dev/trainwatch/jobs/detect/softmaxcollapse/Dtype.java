package dev.trainwatch.jobs.detect.softmaxcollapse;

import java.util.Locale;

/**
 * A floating-point format a softmax may be computed in, with exact round-to-nearest-even emulation
 * of it on top of Java doubles.
 *
 * <p>{@link #absorptionLimit()} is {@code p ln 2} for {@code p} significand bits (implicit bit
 * included): a sum {@code 1 + tail} rounds back to exactly 1 once {@code tail <= 2^-p} (half an ulp
 * of 1), i.e. once the margin {@code r = z_max - log sum_{k != max} exp(z_k)} reaches {@code p ln
 * 2} (Prieto et al. 2025). bf16 5.55, fp16 7.62, fp32 16.64, fp64 36.74 nats.
 *
 * <pre>{@code
 * Dtype d = Dtype.parse("bfloat16", Dtype.FLOAT32);
 * float x = (float) d.round(1.0 + 1.0 / 256);   // 1.0: the tie rounds to even
 * }</pre>
 */
public enum Dtype {
  FLOAT64(53),
  FLOAT32(24),
  BFLOAT16(8),
  FLOAT16(11);

  /** Largest finite half (65504) plus half its ulp: from here on RNE gives infinity. */
  private static final double FP16_OVERFLOW = 65520.0;

  /** Quantum of fp16 subnormals, 2^-24. */
  private static final double FP16_MIN_QUANTUM = 0x1p-24;

  private final int significandBits;
  private final double limit;

  Dtype(int significandBits) {
    this.significandBits = significandBits;
    this.limit = significandBits * Math.log(2.0);
  }

  /** Significand bits including the implicit leading one. */
  public int significandBits() {
    return significandBits;
  }

  /** The margin in nats at and above which the softmax of the top class rounds to exactly 1. */
  public double absorptionLimit() {
    return limit;
  }

  /** {@code x} rounded to the nearest value of this format (ties to even), as a double. */
  public double round(double x) {
    switch (this) {
      case FLOAT64:
        return x;
      case FLOAT32:
        return (float) x;
      case BFLOAT16:
        return roundBfloat16((float) x);
      default:
        return roundFloat16(x);
    }
  }

  /**
   * bf16 is the top 16 bits of a float32: round the float32 pattern to nearest even on bit 16.
   * Rounding via float32 first double-rounds a double input, which is what a float32 kernel that
   * stores bf16 does too.
   */
  static double roundBfloat16(float f) {
    if (Float.isNaN(f) || Float.isInfinite(f)) {
      return f;
    }
    int bits = Float.floatToRawIntBits(f);
    bits += 0x7FFF + ((bits >>> 16) & 1);
    return Float.intBitsToFloat(bits & 0xFFFF0000);
  }

  /** IEEE binary16 rounding (ties to even), with subnormals and overflow to infinity. */
  static double roundFloat16(double x) {
    if (Double.isNaN(x) || Double.isInfinite(x) || x == 0.0) {
      return x;
    }
    double a = Math.abs(x);
    if (a >= FP16_OVERFLOW) {
      return Math.copySign(Double.POSITIVE_INFINITY, x);
    }
    int e = Math.getExponent(a);
    // 10 stored fraction bits: quantum 2^(e-10) for normals, 2^-24 below 2^-14 (subnormals).
    double quantum = e < -14 ? FP16_MIN_QUANTUM : Math.scalb(1.0, e - 10);
    double r = Math.rint(a / quantum) * quantum; // exact: a / quantum only shifts the exponent
    return Math.copySign(r, x);
  }

  /**
   * The dtype a name denotes ({@code float32}, {@code fp32}, {@code torch.bfloat16}, {@code half},
   * ...), or {@code fallback} when the name is null or unknown.
   */
  public static Dtype parse(String name, Dtype fallback) {
    if (name == null) {
      return fallback;
    }
    String n = name.trim().toLowerCase(Locale.ROOT);
    if (n.startsWith("torch.") || n.startsWith("numpy.") || n.startsWith("jnp.")) {
      n = n.substring(n.indexOf('.') + 1);
    }
    switch (n) {
      case "float64":
      case "fp64":
      case "f64":
      case "double":
        return FLOAT64;
      case "float32":
      case "fp32":
      case "f32":
      case "float":
      case "tf32":
        return FLOAT32;
      case "bfloat16":
      case "bf16":
        return BFLOAT16;
      case "float16":
      case "fp16":
      case "f16":
      case "half":
        return FLOAT16;
      default:
        return fallback;
    }
  }

  /** The name used in alerts and settings. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }
}
