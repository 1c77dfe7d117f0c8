package dev.trainwatch.jobs.detect;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The numbers behind an alert, in insertion order. Non-finite numbers are left out (a NaN baseline
 * says "not known yet", which the absence says better and which JSON cannot carry), so detectors
 * can put what they have without guarding every value.
 *
 * <pre>{@code
 * Map<String, Object> ev = Evidence.of("trigger", "lr_jump").num("lr", lr).num("lr_before", prev).map();
 * }</pre>
 */
public final class Evidence {

  private final Map<String, Object> values = new LinkedHashMap<>();

  private Evidence() {}

  public static Evidence of(String key, Object value) {
    return new Evidence().put(key, value);
  }

  public static Evidence empty() {
    return new Evidence();
  }

  /** A finite number (left out when NaN or infinite). */
  public Evidence num(String key, double v) {
    if (Double.isFinite(v)) {
      values.put(key, v);
    }
    return this;
  }

  public Evidence put(String key, Object value) {
    if (value instanceof Double d && !Double.isFinite(d)) {
      return this;
    }
    if (value != null) {
      values.put(key, value);
    }
    return this;
  }

  public Map<String, Object> map() {
    return values;
  }
}
