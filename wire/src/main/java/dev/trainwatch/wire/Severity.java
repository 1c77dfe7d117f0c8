package dev.trainwatch.wire;

import java.util.Locale;

/** Alert severity: a precursor is a {@code warning}, trouble under way is {@code critical}. */
public enum Severity {
  WARNING,
  CRITICAL;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Severity fromWire(String s) {
    return switch (s) {
      case "warning" -> WARNING;
      case "critical" -> CRITICAL;
      default ->
          throw new IllegalArgumentException(
              "unknown severity '" + s + "', expected warning or critical");
    };
  }
}
