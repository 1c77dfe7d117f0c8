package dev.trainwatch.ingest.config;

/** A configuration error whose message names the key and the fix. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
