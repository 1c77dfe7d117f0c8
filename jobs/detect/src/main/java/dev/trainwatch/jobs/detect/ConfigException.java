package dev.trainwatch.jobs.detect;

/**
 * A setting that is unknown, unparsable, out of range or missing: the message names the key and
 * what is allowed. Commands exit with code 2 on it, before any work starts.
 */
public final class ConfigException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
