package dev.trainwatch.ingest.config;

/**
 * One configuration key, declared once with its type, default, valid range and documentation (after
 * Kafka's {@code ConfigDef}; jobs/detect's {@code Setting} is the same idea, in a module the
 * sidecar does not depend on). A null default means "unset unless given". Numbers are checked
 * against {@code [min, max]} at start-up, so a bad value fails with the key's name instead of deep
 * inside the component that uses it; a default outside its own range fails when the class loads.
 *
 * <pre>{@code
 * static final Key HTTP_THREADS = Key.integer("http.threads", 8, 1, 1024, "request threads");
 * int threads = config.getInt(HTTP_THREADS);
 * }</pre>
 */
public record Key(String name, Type type, String defaultValue, long min, long max, String doc) {

  /** The value types a key can have. */
  public enum Type {
    STRING("a string"),
    INT("an integer"),
    LONG("an integer"),
    BOOLEAN("true or false");

    private final String expected;

    Type(String expected) {
      this.expected = expected;
    }
  }

  public static Key string(String name, String dflt, String doc) {
    return new Key(name, Type.STRING, dflt, 0, 0, doc);
  }

  public static Key bool(String name, boolean dflt, String doc) {
    return new Key(name, Type.BOOLEAN, String.valueOf(dflt), 0, 0, doc);
  }

  public static Key integer(String name, int dflt, int min, int max, String doc) {
    return checked(new Key(name, Type.INT, String.valueOf(dflt), min, max, doc));
  }

  /** An int of at least {@code min}. */
  public static Key integer(String name, int dflt, int min, String doc) {
    return integer(name, dflt, min, Integer.MAX_VALUE, doc);
  }

  /** A long of at least {@code min}. */
  public static Key longInteger(String name, long dflt, long min, String doc) {
    return longInteger(name, dflt, min, Long.MAX_VALUE, doc);
  }

  public static Key longInteger(String name, long dflt, long min, long max, String doc) {
    return checked(new Key(name, Type.LONG, String.valueOf(dflt), min, max, doc));
  }

  private static Key checked(Key k) {
    try {
      k.parse(k.defaultValue());
    } catch (ConfigException e) {
      throw new IllegalStateException("default of " + k.name() + " is invalid: " + e.getMessage());
    }
    return k;
  }

  /** The typed value of {@code raw}, or a {@link ConfigException} naming the key and the fix. */
  public Object parse(String raw) {
    String v = raw.trim();
    Object value;
    try {
      value =
          switch (type) {
            case STRING -> raw;
            case INT -> Integer.parseInt(v);
            case LONG -> Long.parseLong(v);
            case BOOLEAN -> parseBoolean(v);
          };
    } catch (IllegalArgumentException e) {
      throw invalid(raw);
    }
    if (value instanceof Number n && (n.longValue() < min || n.longValue() > max)) {
      throw invalid(raw);
    }
    return value;
  }

  /** What a valid value looks like: {@code an integer >= 1}, {@code an integer in [-1, 65535]}. */
  public String allowed() {
    if (type != Type.INT && type != Type.LONG) {
      return type.expected;
    }
    long top = type == Type.INT ? Integer.MAX_VALUE : Long.MAX_VALUE;
    return max >= top
        ? type.expected + " >= " + min
        : type.expected + " in [" + min + ", " + max + "]";
  }

  private ConfigException invalid(String raw) {
    return new ConfigException(
        name
            + ": expected "
            + allowed()
            + ", got '"
            + raw
            + "'. Fix: set "
            + name
            + " to "
            + allowed()
            + " ("
            + doc
            + ")");
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

  /**
   * The environment variable that overrides this key: {@code http.port} -> {@code
   * TRAINWATCH_INGEST_HTTP_PORT}.
   */
  public String envName() {
    return IngestConfig.ENV_PREFIX + name.toUpperCase().replace('.', '_');
  }
}
