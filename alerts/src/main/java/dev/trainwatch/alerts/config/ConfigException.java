package dev.trainwatch.alerts.config;

import java.time.Duration;

/**
 * A configuration error; the message starts with the offending key, e.g. {@code route.group_wait}.
 * Thrown from a record's compact constructor, the key is relative to that record ({@code url});
 * {@link ConfigLoader} prefixes it with where the record sits in the file ({@code receivers[2]}).
 */
public final class ConfigException extends RuntimeException {

  private final String key;
  private final String problem;

  public ConfigException(String key, String problem) {
    super(key + ": " + problem);
    this.key = key;
    this.problem = problem;
  }

  public String key() {
    return key;
  }

  /** The message without the key. */
  public String problem() {
    return problem;
  }

  static int inRange(String key, int v, int min, int max) {
    if (v < min || v > max) {
      throw new ConfigException(key, "must be between " + min + " and " + max + ", got " + v);
    }
    return v;
  }

  static double inRange(String key, double v, double min, double max) {
    if (v < min || v > max) {
      throw new ConfigException(key, "must be between " + min + " and " + max + ", got " + v);
    }
    return v;
  }

  static Duration positive(String key, Duration d) {
    if (d.isZero() || d.isNegative()) {
      throw new ConfigException(key, "must be positive");
    }
    return d;
  }
}
