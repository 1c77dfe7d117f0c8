package dev.trainwatch.jobs.detect;

import java.util.Locale;

/**
 * Numbers in alert text, always in {@link Locale#ROOT} (a German locale would print "2,5x"). A
 * ratio is only shown against a baseline that is far enough from zero to make it mean something:
 * "13461875.79x its best 6.523e-08" says less than "up from 6.5e-08 to 0.88".
 */
public final class Fmt {

  private Fmt() {}

  /** Four significant digits, plain for ordinary magnitudes, scientific for tiny or huge ones. */
  public static String num(double v) {
    if (!Double.isFinite(v)) {
      return Double.toString(v);
    }
    double a = Math.abs(v);
    if (a != 0 && (a < 1e-3 || a >= 1e6)) {
      return String.format(Locale.ROOT, "%.3e", v);
    }
    return String.format(Locale.ROOT, "%.4g", v)
        .replaceFirst("(\\.\\d*?)0+$", "$1")
        .replaceFirst("\\.$", "");
  }

  /** "2.5x" style factor with two significant decimals. */
  public static String times(double factor) {
    return String.format(
        Locale.ROOT, factor >= 100 ? "%.0fx" : factor >= 10 ? "%.1fx" : "%.2fx", factor);
  }

  /**
   * How {@code value} compares with {@code baseline}: "3.2x the median 0.41" when the baseline is
   * meaningful (|baseline| >= {@code floor}), else "0.88, up from 6.5e-08".
   */
  public static String against(double value, double baseline, double floor, String what) {
    if (Double.isFinite(baseline) && Math.abs(baseline) >= floor && baseline != 0) {
      return times(value / baseline) + " " + what + " " + num(baseline);
    }
    return "up from " + what + " " + num(baseline);
  }

  public static String pct(double share) {
    return String.format(Locale.ROOT, "%.0f%%", 100 * share);
  }

  public static String fmt(String pattern, Object... args) {
    return String.format(Locale.ROOT, pattern, args);
  }
}
