package dev.trainwatch.jobs.detect.instability;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Hysteresis counter: a condition must hold for {@code n} consecutive observations before it fires,
 * and its release condition for {@code n} more before it resolves, so a value hovering at the
 * threshold neither flaps nor fires on one noisy step.
 */
final class Sustain {

  private int on;
  private int off;

  /** Counts one observation; returns true when the condition held for {@code n} in a row. */
  boolean hold(boolean condition, int n) {
    on = condition ? on + 1 : 0;
    return on >= n;
  }

  /** Counts one observation of the release condition; true after {@code n} in a row. */
  boolean release(boolean condition, int n) {
    off = condition ? off + 1 : 0;
    return off >= n;
  }

  void reset() {
    on = 0;
    off = 0;
  }

  void write(DataOutput out) throws IOException {
    out.writeInt(on);
    out.writeInt(off);
  }

  void read(DataInput in) throws IOException {
    on = in.readInt();
    off = in.readInt();
  }
}
