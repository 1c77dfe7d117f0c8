package dev.trainwatch.jobs.detect.instability;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

/**
 * The last {@value #CAPACITY} values (as floats) with their median and MAD, for robust baselines.
 * Bounded state (~260 bytes); median and MAD sort a reused scratch array, so the hot path allocates
 * nothing.
 */
final class RobustWindow {

  static final int CAPACITY = 64;

  private final float[] ring = new float[CAPACITY];
  private final float[] scratch = new float[CAPACITY];
  private int size;
  private int next;

  /**
   * The smallest value held, kept as values come and go: a scan of the 64 values on every record
   * was a sixth of all detectors' CPU (sudden_divergence asks twice a record). Found again by a
   * scan only when the value that leaves was the minimum (about 1 add in 64). Not state: recomputed
   * after a restore.
   */
  private float min = Float.POSITIVE_INFINITY;

  private boolean minStale;

  void add(double v) {
    float f = (float) v;
    boolean evictsMin = size == CAPACITY && ring[next] <= min;
    ring[next] = f;
    next = (next + 1) % CAPACITY;
    size = Math.min(size + 1, CAPACITY);
    if (f < min) {
      min = f;
      minStale = false;
    } else if (evictsMin) {
      minStale = true;
    }
  }

  int size() {
    return size;
  }

  void clear() {
    size = 0;
    next = 0;
    min = Float.POSITIVE_INFINITY;
    minStale = false;
  }

  /**
   * Smallest value held (a lower bound of the median, found without sorting). Callers add finite
   * values only, so a plain comparison does (Math.min's NaN and -0.0 care cost 2x here).
   */
  double min() {
    if (minStale) {
      float m = Float.POSITIVE_INFINITY;
      for (int i = 0; i < size; i++) {
        float v = ring[i];
        if (v < m) {
          m = v;
        }
      }
      min = m;
      minStale = false;
    }
    return min;
  }

  double median() {
    System.arraycopy(ring, 0, scratch, 0, size);
    return sortedMedian(size);
  }

  /** Median absolute deviation from {@code median}, scaled by 1.4826 to estimate a sigma. */
  double sigma(double median) {
    for (int i = 0; i < size; i++) {
      scratch[i] = (float) Math.abs(ring[i] - median);
    }
    return 1.4826 * sortedMedian(size);
  }

  private double sortedMedian(int n) {
    if (n == 0) {
      return Double.NaN;
    }
    Arrays.sort(scratch, 0, n);
    return n % 2 == 1 ? scratch[n / 2] : 0.5 * (scratch[n / 2 - 1] + scratch[n / 2]);
  }

  void write(DataOutput out) throws IOException {
    out.writeByte(size);
    out.writeByte(next);
    for (int i = 0; i < size; i++) {
      out.writeFloat(ring[i]);
    }
  }

  void read(DataInput in) throws IOException {
    size = in.readByte();
    next = in.readByte();
    for (int i = 0; i < size; i++) {
      ring[i] = in.readFloat();
    }
    minStale = true;
  }
}
