package dev.trainwatch.wire;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The scalar metrics of one step, as parallel arrays of names and values.
 *
 * <p>Why not a {@code Map<String, Double>}: a record carries ~20 metrics and passes every detector,
 * so boxing each value and hashing each name costs more than a linear scan of a short array. Arrays
 * of primitives and strings also let Flink serialise the record as a POJO instead of falling back
 * to Kryo. Values may be NaN or infinite (the wire strings {@code "NaN"}, {@code "Infinity"},
 * {@code "-Infinity"}).
 *
 * <pre>{@code
 * double loss = record.metrics().get("loss");     // NaN when absent
 * if (record.metrics().has("grad_norm")) { ... }
 * }</pre>
 */
public record Metrics(String[] names, double[] values) {

  public static final Metrics EMPTY = new Metrics(new String[0], new double[0]);

  public Metrics {
    if (names == null || values == null || names.length != values.length) {
      throw new IllegalArgumentException("names and values must be non-null and of equal length");
    }
  }

  /** Builds metrics from a map in its iteration order (tests and the demo use this). */
  public static Metrics of(Map<String, Double> map) {
    String[] n = new String[map.size()];
    double[] v = new double[map.size()];
    int i = 0;
    for (Map.Entry<String, Double> e : map.entrySet()) {
      n[i] = e.getKey();
      v[i++] = e.getValue();
    }
    return new Metrics(n, v);
  }

  public int size() {
    return names.length;
  }

  public String name(int i) {
    return names[i];
  }

  public double value(int i) {
    return values[i];
  }

  /**
   * Index of the metric, or -1 when this step did not publish it. Parsed names are interned, so a
   * lookup by a literal usually ends in the first, identity-only pass. Wide (per-layer) records use
   * a hash index built once per name array ({@link NameIndex}).
   */
  public int indexOf(String name) {
    if (names.length >= NameIndex.MIN_NAMES) {
      NameIndex index = NameIndex.of(names);
      if (index != null) {
        return index.indexOf(name);
      }
    }
    for (int i = 0; i < names.length; i++) {
      if (names[i] == name) {
        return i;
      }
    }
    for (int i = 0; i < names.length; i++) {
      if (names[i].equals(name)) {
        return i;
      }
    }
    return -1;
  }

  public boolean has(String name) {
    return indexOf(name) >= 0;
  }

  /** The value, or NaN when absent; use {@link #has} where NaN itself matters. */
  public double get(String name) {
    int i = indexOf(name);
    return i < 0 ? Double.NaN : values[i];
  }

  public Map<String, Double> asMap() {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < names.length; i++) {
      m.put(names[i], values[i]);
    }
    return m;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Metrics m
        && Arrays.equals(names, m.names)
        && Arrays.equals(values, m.values);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(names) + Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    return asMap().toString();
  }
}
