package dev.trainwatch.wire;

import java.util.Locale;

/** Lifecycle of an alert: {@code firing} while the condition holds, then one {@code resolved}. */
public enum Status {
  FIRING,
  RESOLVED;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Status fromWire(String s) {
    return switch (s) {
      case "firing" -> FIRING;
      case "resolved" -> RESOLVED;
      default ->
          throw new IllegalArgumentException(
              "unknown status '" + s + "', expected firing or resolved");
    };
  }
}
