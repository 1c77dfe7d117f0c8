package dev.trainwatch.ingest.config;

/**
 * One configuration key, declared once with its type, default and documentation (after Kafka's
 * {@code ConfigDef}). A null default means "unset unless given".
 */
public record Key(String name, Type type, String defaultValue, String doc) {

  /** The value types a key can have; each parses and explains its own errors. */
  public enum Type {
    STRING,
    INT,
    LONG,
    BOOLEAN;

    Object parse(Key key, String raw) {
      try {
        return switch (this) {
          case STRING -> raw;
          case INT -> Integer.parseInt(raw.trim());
          case LONG -> Long.parseLong(raw.trim());
          case BOOLEAN -> parseBoolean(raw.trim());
        };
      } catch (IllegalArgumentException e) {
        throw new ConfigException(
            key.name()
                + ": expected "
                + name().toLowerCase()
                + ", got '"
                + raw
                + "'. Fix: set "
                + key.name()
                + " to a valid "
                + name().toLowerCase()
                + " ("
                + key.doc()
                + ")");
      }
    }

    private static boolean parseBoolean(String s) {
      if (s.equalsIgnoreCase("true")) {
        return true;
      }
      if (s.equalsIgnoreCase("false")) {
        return false;
      }
      throw new IllegalArgumentException(s);
    }
  }

  /**
   * The environment variable that overrides this key: {@code http.port} -> {@code
   * TRAINWATCH_INGEST_HTTP_PORT}.
   */
  public String envName() {
    return IngestConfig.ENV_PREFIX + name.toUpperCase().replace('.', '_');
  }
}
