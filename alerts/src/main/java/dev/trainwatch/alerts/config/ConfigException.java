package dev.trainwatch.alerts.config;

/**
 * A configuration error; the message starts with the offending key, e.g. {@code route.group_wait}.
 */
public final class ConfigException extends RuntimeException {

  private final String key;

  public ConfigException(String key, String problem) {
    super(key + ": " + problem);
    this.key = key;
  }

  public String key() {
    return key;
  }
}
