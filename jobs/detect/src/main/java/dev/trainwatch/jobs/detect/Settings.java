package dev.trainwatch.jobs.detect;

import java.io.Serializable;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Raw detector settings ({@code key -> value}) as given in a config file or on the command line,
 * read through the declared {@link Setting}s that carry type, default and range. Each detector
 * declares its settings once ({@link SettingsDef}, registered in {@link DetectorRegistry}); {@link
 * DetectorConfig} validates every key and value at start-up (see docs/detectors.md).
 */
public final class Settings implements Serializable {

  private static final long serialVersionUID = 1L;
  public static final Settings DEFAULTS = new Settings(Map.of());

  private final TreeMap<String, String> values;

  public Settings(Map<String, String> values) {
    this.values = new TreeMap<>(values);
  }

  /** The value of a declared setting: the parsed, validated value given, else its default. */
  public <T> T get(Setting<T> setting) {
    String v = values.get(setting.key());
    return v == null ? setting.dflt() : setting.parse(v);
  }

  /**
   * @deprecated undeclared settings are rejected at start-up; declare a {@link Setting} and use
   *     {@link #get}.
   */
  @Deprecated
  public double getDouble(String key, double dflt) {
    String v = values.get(key);
    if (v == null) {
      return dflt;
    }
    try {
      return Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "setting '" + key + "': expected a number, got '" + v + "'");
    }
  }

  /**
   * @deprecated declare a {@link Setting} and use {@link #get}.
   */
  @Deprecated
  public int getInt(String key, int dflt) {
    String v = values.get(key);
    if (v == null) {
      return dflt;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "setting '" + key + "': expected an integer, got '" + v + "'");
    }
  }

  /**
   * @deprecated declare a {@link Setting} and use {@link #get}.
   */
  @Deprecated
  public boolean getBoolean(String key, boolean dflt) {
    String v = values.get(key);
    if (v == null) {
      return dflt;
    }
    return switch (v.trim()) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new IllegalArgumentException(
              "setting '" + key + "': expected true or false, got '" + v + "'");
    };
  }

  public Map<String, String> asMap() {
    return Collections.unmodifiableMap(values);
  }
}
