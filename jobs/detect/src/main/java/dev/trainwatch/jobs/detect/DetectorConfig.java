package dev.trainwatch.jobs.detect;

import java.io.Serializable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The settings of all detectors, validated when constructed (an unknown key or a bad value fails
 * before any work starts) and resolved once per job into each detector's typed {@code Config}
 * record and cached here; a detector keeps the record it got ({@link ConfiguredDetector#config}),
 * so a record costs no lookup.
 *
 * <pre>{@code
 * Config c = config(ctx, Config.class, Config::from); // in a ConfiguredDetector
 * }</pre>
 */
public final class DetectorConfig implements Serializable {

  private static final long serialVersionUID = 1L;
  public static final DetectorConfig DEFAULTS = new DetectorConfig(Settings.DEFAULTS);

  private final Settings settings;
  private transient ConcurrentHashMap<Class<?>, Object> resolved;

  /**
   * Validates every key and value (see {@link DetectorRegistry#validate}); errors name the key as
   * given.
   */
  public DetectorConfig(Settings settings) {
    this(settings, "");
  }

  /**
   * As above; {@code shownPrefix} is put before keys in errors (e.g. {@code detector.} in job
   * properties).
   */
  public DetectorConfig(Settings settings, String shownPrefix) {
    if (!settings.asMap().isEmpty()) {
      DetectorRegistry.validate(settings, shownPrefix);
    }
    this.settings = settings;
  }

  public Settings settings() {
    return settings;
  }

  @SuppressWarnings("unchecked")
  public <C> C get(Class<C> type, Function<Settings, C> factory) {
    ConcurrentHashMap<Class<?>, Object> m = resolved;
    if (m == null) {
      m = resolved = new ConcurrentHashMap<>();
    }
    Object c = m.get(type);
    if (c == null) {
      c = factory.apply(settings);
      m.put(type, c);
    }
    return (C) c;
  }
}
