package dev.trainwatch.jobs.detect;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * Raw detector settings ({@code key -> value}) as given in a config file or on the command
 * line, read through typed getters that carry the default. Each detector's {@code Config}
 * record declares its keys, defaults and meaning in one place (see docs/detectors.md).
 * An unparsable value fails at start-up with a message naming the key.
 */
public final class Settings implements Serializable {

  private static final long serialVersionUID = 1L;
  public static final Settings DEFAULTS = new Settings(Map.of());

  private final TreeMap<String, String> values;

  public Settings(Map<String, String> values) {
    this.values = new TreeMap<>(values);
  }

  public double getDouble(String key, double dflt) {
    String v = values.get(key);
    if (v == null) {
      return dflt;
    }
    try {
      return Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("setting '" + key + "': expected a number, got '" + v + "'");
    }
  }

  public int getInt(String key, int dflt) {
    String v = values.get(key);
    if (v == null) {
      return dflt;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("setting '" + key + "': expected an integer, got '" + v + "'");
    }
  }

  public boolean getBoolean(String key, boolean dflt) {
    String v = values.get(key);
    if (v == null) {
      return dflt;
    }
    return switch (v.trim()) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException("setting '" + key + "': expected true or false, got '" + v + "'");
    };
  }

  public Map<String, String> asMap() {
    return java.util.Collections.unmodifiableMap(values);
  }
}
