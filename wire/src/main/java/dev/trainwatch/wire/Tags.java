package dev.trainwatch.wire;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Run attributes (name -> string), as parallel arrays so Flink serialises them as a POJO. */
public record Tags(String[] names, String[] values) {

  public static final Tags EMPTY = new Tags(new String[0], new String[0]);

  public Tags {
    if (names == null || values == null || names.length != values.length) {
      throw new IllegalArgumentException("names and values must be non-null and of equal length");
    }
  }

  public static Tags of(Map<String, String> map) {
    return new Tags(map.keySet().toArray(String[]::new), map.values().toArray(String[]::new));
  }

  public int size() {
    return names.length;
  }

  /** The tag's value, or null when absent. */
  public String get(String name) {
    for (int i = 0; i < names.length; i++) {
      if (names[i].equals(name)) {
        return values[i];
      }
    }
    return null;
  }

  public Map<String, String> asMap() {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < names.length; i++) {
      m.put(names[i], values[i]);
    }
    return m;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tags t && Arrays.equals(names, t.names) && Arrays.equals(values, t.values);
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
