package dev.trainwatch.jobs.storage;

import dev.trainwatch.jobs.detect.ConfigException;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Configuration of the InfluxDB storage, declared in one place ({@link #KEYS}). Sources, in
 * increasing precedence: defaults, the given settings, environment variables ({@code
 * TRAINWATCH_INFLUX_URL} overrides {@code influx.url}). The credentials are read only from the
 * environment ({@code TRAINWATCH_INFLUX_USERNAME}, {@code TRAINWATCH_INFLUX_PASSWORD}) so they
 * never sit in a properties file. Storage is off when no URL is configured.
 *
 * <pre>{@code
 * InfluxSinkConfig.load(Map.of("influx.url", "http://127.0.0.1:8086"), System.getenv())
 *     .ifPresent(c -> StorageTopology.attach(records, alerts, metrics, c));
 * }</pre>
 */
public record InfluxSinkConfig(
    String url,
    String database,
    String retentionPolicy,
    String username,
    String password,
    int batchSize,
    int maxInFlightBatches,
    long flushIntervalMs,
    long retryDeadlineMs,
    boolean createDatabase)
    implements Serializable {

  /** A declared key: name, default, meaning. */
  public record Key(String name, String dflt, String doc) {}

  public static final List<Key> KEYS =
      List.of(
          new Key(
              "influx.url",
              null,
              "InfluxDB 1.x HTTP URL (http://host:8086); storage is off when unset."),
          new Key("influx.database", "trainwatch", "Database to write to."),
          new Key("influx.retention-policy", "", "Retention policy; empty = the database default."),
          new Key("influx.batch-size", "5000", "Points per write request."),
          new Key(
              "influx.max-in-flight-batches",
              "4",
              "Full batches queued for the sender before write() blocks (backpressure)."),
          new Key("influx.flush-interval.ms", "1000", "A partial batch is sent after this long."),
          new Key(
              "influx.retry-deadline.ms",
              "60000",
              "Retryable failures (I/O, 5xx) are retried with backoff up to this long, then the task fails."),
          new Key(
              "influx.create-database",
              "true",
              "Issue CREATE DATABASE (idempotent) when the writer opens."));

  public InfluxSinkConfig {
    require(
        url != null && (url.startsWith("http://") || url.startsWith("https://")),
        "influx.url",
        "expected an http:// or https:// URL, got '" + url + "'");
    require(database != null && !database.isBlank(), "influx.database", "must not be empty");
    require(batchSize > 0, "influx.batch-size", "must be > 0, got " + batchSize);
    require(
        maxInFlightBatches > 0,
        "influx.max-in-flight-batches",
        "must be > 0, got " + maxInFlightBatches);
    require(flushIntervalMs > 0, "influx.flush-interval.ms", "must be > 0, got " + flushIntervalMs);
    require(
        retryDeadlineMs >= 0, "influx.retry-deadline.ms", "must be >= 0, got " + retryDeadlineMs);
    retentionPolicy = retentionPolicy == null ? "" : retentionPolicy;
  }

  private static void require(boolean ok, String key, String why) {
    if (!ok) {
      throw new ConfigException("configuration key '" + key + "': " + why);
    }
  }

  /** Defaults for everything but the URL; handy in tests and the embedded default. */
  public static InfluxSinkConfig forUrl(String url) {
    return load(Map.of("influx.url", url), Map.of()).orElseThrow();
  }

  /** Loads the configuration, or empty when no URL is configured; unknown influx.* keys fail. */
  public static Optional<InfluxSinkConfig> load(
      Map<String, String> settings, Map<String, String> env) {
    Map<String, String> v = new LinkedHashMap<>();
    for (Key k : KEYS) {
      if (k.dflt() != null) {
        v.put(k.name(), k.dflt());
      }
    }
    settings.forEach(
        (k, val) -> {
          if (k.startsWith("influx.")) {
            if (KEYS.stream().noneMatch(key -> key.name().equals(k))) {
              throw new ConfigException(
                  "unknown configuration key '"
                      + k
                      + "'; known keys: "
                      + KEYS.stream().map(Key::name).toList());
            }
            v.put(k, val);
          }
        });
    for (Key k : KEYS) {
      String e = env.get(envName(k.name()));
      if (e != null) {
        v.put(k.name(), e);
      }
    }
    // Parsed and checked even when storage is off, so a bad value fails at start-up, not when
    // someone later sets the URL.
    String url = v.get("influx.url");
    boolean off = url == null || url.isBlank();
    InfluxSinkConfig c =
        new InfluxSinkConfig(
            off ? "http://unset" : url.trim(),
            v.get("influx.database"),
            v.get("influx.retention-policy"),
            env.get("TRAINWATCH_INFLUX_USERNAME"),
            env.get("TRAINWATCH_INFLUX_PASSWORD"),
            (int) num(v, "influx.batch-size"),
            (int) num(v, "influx.max-in-flight-batches"),
            num(v, "influx.flush-interval.ms"),
            num(v, "influx.retry-deadline.ms"),
            bool(v, "influx.create-database"));
    return off ? Optional.empty() : Optional.of(c);
  }

  static String envName(String key) {
    return "TRAINWATCH_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  private static boolean bool(Map<String, String> v, String key) {
    return switch (v.get(key).trim()) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new ConfigException(
              "configuration key '" + key + "': expected true or false, got '" + v.get(key) + "'");
    };
  }

  private static long num(Map<String, String> v, String key) {
    try {
      return Long.parseLong(v.get(key).trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(
          "configuration key '" + key + "': expected an integer, got '" + v.get(key) + "'");
    }
  }

  public InfluxSinkConfig withBatchSize(int n) {
    return new InfluxSinkConfig(
        url,
        database,
        retentionPolicy,
        username,
        password,
        n,
        maxInFlightBatches,
        flushIntervalMs,
        retryDeadlineMs,
        createDatabase);
  }

  public InfluxSinkConfig withDatabase(String db) {
    return new InfluxSinkConfig(
        url,
        db,
        retentionPolicy,
        username,
        password,
        batchSize,
        maxInFlightBatches,
        flushIntervalMs,
        retryDeadlineMs,
        createDatabase);
  }

  public InfluxSinkConfig withRetryDeadlineMs(long ms) {
    return new InfluxSinkConfig(
        url,
        database,
        retentionPolicy,
        username,
        password,
        batchSize,
        maxInFlightBatches,
        flushIntervalMs,
        ms,
        createDatabase);
  }

  @Override
  public String toString() {
    return "InfluxSinkConfig[url="
        + url
        + ", database="
        + database
        + ", batchSize="
        + batchSize
        + ", user="
        + (username == null ? "-" : username)
        + ", password="
        + (password == null ? "-" : "***")
        + "]";
  }
}
