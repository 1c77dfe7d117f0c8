package dev.trainwatch.jobs.detect.instability;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The last {@value #CAPACITY} values (as floats) with their median and MAD, for robust baselines.
 * Bounded state (~260 bytes); median and MAD select in a per-thread scratch array, so the hot path
 * allocates nothing.
 */
final class RobustWindow {

  static final int CAPACITY = 64;

  private final float[] ring = new float[CAPACITY];

  /**
   * Where median and MAD select: one per thread, not per window (a run has four windows, and 4 x
   * 272 B was a sixth of a run's ~6 KB on the heap; 109 MB at 100,000 runs). Asked for only when a
   * median is taken, which the minimum's pre-filter makes rare.
   */
  private static final ThreadLocal<float[]> SCRATCH =
      ThreadLocal.withInitial(() -> new float[CAPACITY]);

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
    float[] scratch = SCRATCH.get();
    System.arraycopy(ring, 0, scratch, 0, size);
    return selectMedian(scratch, size);
  }

  /** Median absolute deviation from {@code median}, scaled by 1.4826 to estimate a sigma. */
  double sigma(double median) {
    float[] scratch = SCRATCH.get();
    for (int i = 0; i < size; i++) {
      scratch[i] = (float) Math.abs(ring[i] - median);
    }
    return 1.4826 * selectMedian(scratch, size);
  }

  /**
   * The median of {@code scratch[0..n)} by selection, not sorting: the same value as sorting and
   * taking the middle, in about a third of the comparisons (the insertion sort of 64 floats was
   * 6-8% of the job's keyed operator).
   */
  private static double selectMedian(float[] scratch, int n) {
    if (n == 0) {
      return Double.NaN;
    }
    int k = n / 2;
    float upper = select(scratch, n, k);
    if (n % 2 == 1) {
      return upper;
    }
    // the lower middle is the largest of the k smallest, which select left in front
    float lower = scratch[0];
    for (int i = 1; i < k; i++) {
      if (scratch[i] > lower) {
        lower = scratch[i];
      }
    }
    return 0.5 * (lower + upper);
  }

  /**
   * The {@code k}-th smallest of {@code a[0..n)} (0-based), leaving {@code a[0..k)} at most and
   * {@code a(k..n)} at least it (Wirth's selection; values are finite).
   */
  static float select(float[] a, int n, int k) {
    int lo = 0;
    int hi = n - 1;
    while (lo < hi) {
      float pivot = a[k];
      int i = lo;
      int j = hi;
      do {
        while (a[i] < pivot) {
          i++;
        }
        while (pivot < a[j]) {
          j--;
        }
        if (i <= j) {
          float t = a[i];
          a[i] = a[j];
          a[j] = t;
          i++;
          j--;
        }
      } while (i <= j);
      if (j < k) {
        lo = i;
      }
      if (k < i) {
        hi = j;
      }
    }
    return a[k];
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
