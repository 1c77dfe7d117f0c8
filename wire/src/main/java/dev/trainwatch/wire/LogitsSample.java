package dev.trainwatch.wire;

import java.util.Arrays;
import java.util.Objects;

/**
 * A few sampled rows of a step's raw logits with their true labels, so the monitor can recompute
 * softmax saturation itself in the named dtype.
 *
 * <p>Rows are held as doubles; the producer prints each value so that it reads back to the same
 * value of {@code dtype}, so narrowing a row to float is exact for float32 data.
 */
public record LogitsSample(String dtype, int[] labels, double[][] rows) {

  public LogitsSample {
    if (labels == null || rows == null || labels.length != rows.length) {
      throw new IllegalArgumentException("labels and rows must be non-null and of equal length");
    }
  }

  public int size() {
    return rows.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LogitsSample s
        && Objects.equals(dtype, s.dtype)
        && Arrays.equals(labels, s.labels)
        && Arrays.deepEquals(rows, s.rows);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(labels) + Arrays.deepHashCode(rows);
  }

  @Override
  public String toString() {
    return "LogitsSample[dtype=" + dtype + ", rows=" + rows.length + "]";
  }
}
