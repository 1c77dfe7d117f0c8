package dev.trainwatch.jobs.detect;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.List;

/**
 * One declared setting: its full key, type, default, validator and meaning, in one place (modelled
 * on Kafka's {@code ConfigDef}). {@link #parse} turns the text a user gave into the typed value or
 * fails with a message that names the key and what is allowed.
 *
 * @param <T> Double, Integer, Long, Boolean or String
 */
public record Setting<T>(String key, Type type, T dflt, Validator validator, String doc)
    implements Serializable {

  /** A setting without a default must be given. */
  public boolean required() {
    return dflt == null;
  }

  public enum Type {
    DOUBLE("a number"),
    INT("an integer"),
    LONG("an integer"),
    BOOLEAN("true or false"),
    STRING("a string");

    private final String expected;

    Type(String expected) {
      this.expected = expected;
    }
  }

  /** A check of a parsed value; {@link #allowed} says what passes, for errors and docs. */
  public interface Validator extends Serializable {
    boolean test(Object value);

    String allowed();
  }

  public Setting {
    if (dflt != null && !validator.test(dflt)) {
      throw new IllegalStateException(
          "setting '" + key + "': default " + dflt + " is not " + validator.allowed());
    }
  }

  /** The typed value of {@code raw}; throws {@link IllegalArgumentException} naming the key. */
  @SuppressWarnings("unchecked")
  public T parse(String raw) {
    String v = raw.trim();
    Object value;
    try {
      value =
          switch (type) {
            case DOUBLE -> Double.parseDouble(v);
            case INT -> Integer.parseInt(v);
            case LONG -> Long.parseLong(v);
            case BOOLEAN ->
                switch (v) {
                  case "true" -> Boolean.TRUE;
                  case "false" -> Boolean.FALSE;
                  default -> throw new NumberFormatException(v);
                };
            case STRING -> v;
          };
    } catch (NumberFormatException e) {
      throw new ConfigException(error("expected " + type.expected + allowedSuffix(), raw));
    }
    if (type == Type.DOUBLE && !Double.isFinite((Double) value)) {
      throw new ConfigException(error("expected a finite number" + allowedSuffix(), raw));
    }
    if (!validator.test(value)) {
      throw new ConfigException(error("expected " + validator.allowed(), raw));
    }
    return (T) value;
  }

  /** The default as text, as docs show it (plain decimal, no trailing zeros). */
  public String defaultText() {
    return text(dflt);
  }

  private String allowedSuffix() {
    return validator == ANY ? "" : " (" + validator.allowed() + ")";
  }

  private String error(String expected, String raw) {
    return "setting '" + key + "': " + expected + ", got '" + raw + "'";
  }

  static String text(Object v) {
    if (v instanceof Double d) {
      return Double.isInfinite(d)
          ? d.toString()
          : BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }
    return String.valueOf(v);
  }

  // ---- validators ----

  public static final Validator ANY =
      new Validator() {
        @Override
        public boolean test(Object value) {
          return true;
        }

        @Override
        public String allowed() {
          return "any value";
        }
      };

  /** {@code value >= min}. */
  public static Validator atLeast(double min) {
    return range(min, true, Double.POSITIVE_INFINITY, true);
  }

  /** {@code value > min}. */
  public static Validator above(double min) {
    return range(min, false, Double.POSITIVE_INFINITY, true);
  }

  /** {@code lo <= value <= hi}. */
  public static Validator between(double lo, double hi) {
    return range(lo, true, hi, true);
  }

  /** {@code lo < value < hi}. */
  public static Validator strictlyBetween(double lo, double hi) {
    return range(lo, false, hi, false);
  }

  private static Validator range(double lo, boolean loIncl, double hi, boolean hiIncl) {
    return new Validator() {
      @Override
      public boolean test(Object value) {
        double x = ((Number) value).doubleValue();
        return (loIncl ? x >= lo : x > lo) && (hiIncl ? x <= hi : x < hi);
      }

      @Override
      public String allowed() {
        String l = (loIncl ? ">= " : "> ") + text(lo);
        if (Double.isInfinite(hi)) {
          return "a value " + l;
        }
        return "a value " + l + " and " + (hiIncl ? "<= " : "< ") + text(hi);
      }
    };
  }

  /** One of the given strings. */
  public static Validator oneOf(String... values) {
    List<String> allowed = List.of(values);
    return new Validator() {
      @Override
      public boolean test(Object value) {
        return allowed.contains(value);
      }

      @Override
      public String allowed() {
        return "one of " + String.join(", ", allowed);
      }
    };
  }

  /** A power of two from 1 to {@code max}. */
  public static Validator powerOfTwoAtMost(int max) {
    return new Validator() {
      @Override
      public boolean test(Object value) {
        int n = (Integer) value;
        return n >= 1 && n <= max && Integer.bitCount(n) == 1;
      }

      @Override
      public String allowed() {
        return "a power of two from 1 to " + max;
      }
    };
  }
}
