package dev.trainwatch.wire;

/** The three families of trouble trainwatch detects; {@link #wire()} is the JSON value. */
public enum Family {
  SOFTMAX_COLLAPSE("softmax_collapse"),
  INSTABILITY("instability"),
  STABILITY_GAP("stability_gap");

  private final String wire;

  Family(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  public static Family fromWire(String s) {
    for (Family f : values()) {
      if (f.wire.equals(s)) {
        return f;
      }
    }
    throw new IllegalArgumentException(
        "unknown family '" + s + "', expected one of softmax_collapse, instability, stability_gap");
  }
}
