package dev.trainwatch.jobs.detect;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The declared settings of one detector, all under one key prefix (e.g. {@code
 * instability.loss_spike.}). A detector declares each setting once, as a constant:
 *
 * <pre>{@code
 * static final SettingsDef SETTINGS = new SettingsDef("instability.loss_spike.");
 * static final Setting<Double> Z = SETTINGS.number("z", 6, Setting.above(0), "robust sigmas ...");
 * ...
 * Config from(Settings s) { return new Config(s.get(Z), ...); }
 * }</pre>
 *
 * and registers {@code SETTINGS} in {@link DetectorRegistry}, which rejects unknown keys and bad
 * values at start-up. The prefix is {@code <family>.<detector>.}; {@code docs/detectors.md} is
 * checked against these declarations by a test (each row in its detector's {@code ### <detector>}
 * section).
 */
public final class SettingsDef implements Serializable {

  private static final long serialVersionUID = 1L;

  private final String prefix;
  private final List<Setting<?>> settings = new ArrayList<>();

  /** {@code prefix} ends with a dot, e.g. {@code instability.loss_spike.}. */
  public SettingsDef(String prefix) {
    if (!prefix.endsWith(".")) {
      throw new IllegalArgumentException("prefix must end with '.': " + prefix);
    }
    this.prefix = prefix;
  }

  public String prefix() {
    return prefix;
  }

  public List<Setting<?>> settings() {
    return Collections.unmodifiableList(settings);
  }

  public Setting<Double> number(String name, double dflt, Setting.Validator v, String doc) {
    return add(new Setting<>(prefix + name, Setting.Type.DOUBLE, dflt, v, doc));
  }

  public Setting<Integer> integer(String name, int dflt, Setting.Validator v, String doc) {
    return add(new Setting<>(prefix + name, Setting.Type.INT, dflt, v, doc));
  }

  public Setting<Boolean> flag(String name, boolean dflt, String doc) {
    return add(new Setting<>(prefix + name, Setting.Type.BOOLEAN, dflt, Setting.ANY, doc));
  }

  public Setting<String> choice(String name, String dflt, List<String> allowed, String doc) {
    return add(
        new Setting<>(
            prefix + name,
            Setting.Type.STRING,
            dflt,
            Setting.oneOf(allowed.toArray(String[]::new)),
            doc));
  }

  private <T> Setting<T> add(Setting<T> s) {
    if (settings.stream().anyMatch(o -> o.key().equals(s.key()))) {
      throw new IllegalStateException("setting declared twice: " + s.key());
    }
    settings.add(s);
    return s;
  }
}
