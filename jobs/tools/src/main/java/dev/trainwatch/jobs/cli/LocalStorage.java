package dev.trainwatch.jobs.cli;

import dev.trainwatch.embedded.EmbeddedInflux;
import dev.trainwatch.jobs.storage.InfluxSinkConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The embedded default of storage: the configured InfluxDB when {@code influx.url} (or {@code
 * TRAINWATCH_INFLUX_URL}) is set, else a local influxd started on loopback with a temporary
 * directory when the binary is installed, else none. Closing stops the local influxd (and deletes
 * its data); a configured server is left alone.
 *
 * <pre>{@code
 * try (LocalStorage s = LocalStorage.resolve(settings, System.getenv()).orElse(null)) { ... }
 * }</pre>
 */
public final class LocalStorage implements AutoCloseable {

  private final InfluxSinkConfig config;
  private final EmbeddedInflux started;

  private LocalStorage(InfluxSinkConfig config, EmbeddedInflux started) {
    this.config = config;
    this.started = started;
  }

  public static Optional<LocalStorage> resolve(
      Map<String, String> settings, Map<String, String> env) throws Exception {
    Optional<InfluxSinkConfig> configured = InfluxSinkConfig.load(settings, env);
    if (configured.isPresent()) {
      return Optional.of(new LocalStorage(configured.get(), null));
    }
    if (!EmbeddedInflux.isAvailable()) {
      return Optional.empty();
    }
    EmbeddedInflux influx = EmbeddedInflux.start();
    Map<String, String> s = new HashMap<>(settings);
    s.put("influx.url", influx.url());
    return Optional.of(new LocalStorage(InfluxSinkConfig.load(s, env).orElseThrow(), influx));
  }

  public InfluxSinkConfig config() {
    return config;
  }

  /** True when this process started the influxd (its data goes away on close). */
  public boolean isLocal() {
    return started != null;
  }

  @Override
  public void close() {
    if (started != null) {
      started.close();
    }
  }
}
