package dev.trainwatch.wire;

/** Lifecycle of an alert: {@code firing} while the condition holds, then one {@code resolved}. */
public enum Status {
  FIRING,
  RESOLVED;

  public String wire() {
    return name().toLowerCase(java.util.Locale.ROOT);
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
