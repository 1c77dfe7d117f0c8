package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.AlertEvent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The numbers behind an alert, typed. {@link AlertEvent} sorts the keys (the JSON lists them
 * alphabetically), so the order of the puts does not matter.
 *
 * <ul>
 *   <li>{@link #num}: a number as it is; a NaN or infinity is written as the string {@code "NaN"},
 *       {@code "Infinity"} (the telemetry format's convention), e.g. the LR of a run that never
 *       reported one;
 *   <li>{@link #finite}: a number that is left out unless finite (a NaN baseline says "not known
 *       yet", which the absence says better);
 *   <li>{@link #count}: an integer (a step, a number of records), written without a fraction;
 *   <li>{@link #text}, {@link #list}, {@link #flag}: left out when null (a list also when empty).
 * </ul>
 *
 * <pre>{@code
 * Evidence.of().text("trigger", "lr_jump").finite("lr", lr).count("step", step)
 * }</pre>
 */
public final class Evidence {

  private final Map<String, Object> values = new LinkedHashMap<>();

  private Evidence() {}

  public static Evidence of() {
    return new Evidence();
  }

  /** A number as it is (non-finite ones are written as strings). */
  public Evidence num(String key, double v) {
    values.put(key, v);
    return this;
  }

  /** A finite number; left out when NaN or infinite. */
  public Evidence finite(String key, double v) {
    if (Double.isFinite(v)) {
      values.put(key, v);
    }
    return this;
  }

  /** An integer: a step, a count of records or steps, milliseconds. */
  public Evidence count(String key, long v) {
    values.put(key, v);
    return this;
  }

  /** A string; left out when null. */
  public Evidence text(String key, String v) {
    if (v != null) {
      values.put(key, v);
    }
    return this;
  }

  /** A list of names (layers); left out when null or empty. */
  public Evidence list(String key, List<String> v) {
    if (v != null && !v.isEmpty()) {
      values.put(key, v);
    }
    return this;
  }

  public Evidence flag(String key, boolean v) {
    values.put(key, v);
    return this;
  }

  public Map<String, Object> map() {
    return values;
  }
}
