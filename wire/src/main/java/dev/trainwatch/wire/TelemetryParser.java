package dev.trainwatch.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Parses and validates one telemetry record (one JSON object) per {@code shared/eval/FORMAT.md}.
 *
 * <p>Never throws on bad input: every defect becomes a {@link ParseResult.Rejected} whose
 * reason names the field, so every ingest path (Kafka, HTTP, file tail) reports the same,
 * specific error. Unknown top-level fields are ignored so newer producers keep working.
 * Records of the common shape are read by {@link FastRecordReader}; everything else, and every
 * defect, by Jackson's streaming parser, which owns all error messages. Thread-safe.
 *
 * <pre>{@code
 * ParseResult result = TelemetryParser.DEFAULT.parse(bytes);
 * if (result instanceof ParseResult.Parsed p) {
 *   process(p.record());
 * } else if (result instanceof ParseResult.Rejected r) {
 *   deadLetter(r.reason());
 * }
 * }</pre>
 */
public final class TelemetryParser {

  /** Limits that keep one hostile record from exhausting memory. */
  public record Limits(int maxBytes, int maxMetrics, int maxLogitRows, int maxLogitColumns) {
    public static final Limits DEFAULT = new Limits(4 << 20, 4096, 1024, 1 << 16);
  }

  public static final TelemetryParser DEFAULT = new TelemetryParser(Limits.DEFAULT);

  static final Set<String> EVENTS =
      Set.of(TelemetryRecord.RUN_START, TelemetryRecord.RUN_END, TelemetryRecord.TASK_START,
          TelemetryRecord.CHECKPOINT);
  static final Set<String> DTYPES = Set.of("float32", "bfloat16", "float16", "float64");

  private final Limits limits;
  private final JsonFactory factory;

  public TelemetryParser(Limits limits) {
    this.limits = limits;
    this.factory = JsonFactory.builder()
        // ~20 floats a record: the JDK's Double.parseDouble dominated the parse cost
        .enable(com.fasterxml.jackson.core.StreamReadFeature.USE_FAST_DOUBLE_PARSER)
        .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(limits.maxBytes()).build())
        .build();
  }

  /**
   * The {@code run} a record names, read without validating or building the record (it is
   * usually the first field, so this stops after a few tokens); null when the bytes are not
   * a JSON object with a string {@code run}. Used to route a record to its run before the
   * full parse.
   */
  public String peekRun(byte[] bytes) {
    if (bytes == null || bytes.length == 0 || bytes.length > limits.maxBytes()) {
      return null;
    }
    try (JsonParser p = factory.createParser(bytes)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        boolean isRun = "run".equals(p.currentName());
        JsonToken t = p.nextToken();
        if (isRun) {
          return t == JsonToken.VALUE_STRING ? p.getText() : null;
        }
        p.skipChildren();
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return null;
  }

  public ParseResult parse(String line) {
    return parse(line.getBytes(StandardCharsets.UTF_8));
  }

  public ParseResult parse(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      return new ParseResult.Rejected("empty record", null);
    }
    if (bytes.length > limits.maxBytes()) {
      return new ParseResult.Rejected(
          "record of " + bytes.length + " bytes exceeds the limit of " + limits.maxBytes(), null);
    }
    TelemetryRecord fast = FastRecordReader.read(bytes, limits.maxMetrics());
    return fast != null ? new ParseResult.Parsed(fast) : parseFully(bytes);
  }

  /** The Jackson path alone: every shape and every error message (tests compare both paths). */
  ParseResult parseFully(byte[] bytes) {
    Fields f = new Fields();
    try (JsonParser p = factory.createParser(bytes)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return f.reject("expected a JSON object");
      }
      String error = readObject(p, f);
      if (error != null) {
        return f.reject(error);
      }
      if (p.nextToken() != null) {
        return f.reject("trailing content after the JSON object");
      }
    } catch (JsonParseException e) {
      return f.reject("malformed JSON: " + e.getOriginalMessage());
    } catch (IOException | RuntimeException e) {
      return f.reject("unreadable record: " + e.getMessage());
    }
    return f.build();
  }

  private String readObject(JsonParser p, Fields f) throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      String error = switch (name) {
        case "run" -> readRun(t, p, f);
        case "step" -> readStep(t, p, f);
        case "time_ms" -> readTime(t, p, f);
        case "task" -> {
          if (t == JsonToken.VALUE_NULL) {
            yield null;
          }
          f.task = t == JsonToken.VALUE_STRING ? p.getText() : null;
          yield f.task == null || f.task.isEmpty() ? "field 'task': expected a non-empty string" : null;
        }
        case "event" -> readEvent(t, p, f);
        case "metrics" -> readMetrics(t, p, f);
        case "tags" -> readTags(t, p, f);
        case "logits" -> readLogits(t, p, f);
        default -> {
          p.skipChildren(); // unknown fields are carried by newer producers; ignore them
          yield null;
        }
      };
      if (error != null) {
        return error;
      }
    }
    if (f.run == null) {
      return "missing required field 'run'";
    }
    if (f.step < 0) {
      return "missing required field 'step'";
    }
    if (TelemetryRecord.TASK_START.equals(f.event) && f.task == null) {
      return "field 'event': 'task_start' requires the field 'task'";
    }
    return null;
  }

  private static String readRun(JsonToken t, JsonParser p, Fields f) throws IOException {
    if (t != JsonToken.VALUE_STRING || p.getText().isBlank()) {
      return "field 'run': expected a non-empty string, got " + describe(t, p);
    }
    f.run = p.getText();
    return null;
  }

  private static String readStep(JsonToken t, JsonParser p, Fields f) throws IOException {
    if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
        || p.getLongValue() < 0) {
      return "field 'step': expected an integer >= 0, got " + describe(t, p);
    }
    f.step = p.getLongValue();
    return null;
  }

  private static String readTime(JsonToken t, JsonParser p, Fields f) throws IOException {
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
        || p.getLongValue() < 0) {
      return "field 'time_ms': expected Unix milliseconds (integer >= 0), got " + describe(t, p);
    }
    f.timeMs = p.getLongValue();
    return null;
  }

  private static String readEvent(JsonToken t, JsonParser p, Fields f) throws IOException {
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.VALUE_STRING || !EVENTS.contains(p.getText())) {
      return "field 'event': expected one of " + new java.util.TreeSet<>(EVENTS) + ", got "
          + describe(t, p);
    }
    f.event = p.getText();
    return null;
  }

  private String readMetrics(JsonToken t, JsonParser p, Fields f) throws IOException {
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.START_OBJECT) {
      return "field 'metrics': expected an object of name -> number, got " + describe(t, p);
    }
    List<String> names = new ArrayList<>(24);
    double[] values = new double[24];
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      double d;
      if (v == JsonToken.VALUE_NUMBER_INT || v == JsonToken.VALUE_NUMBER_FLOAT) {
        d = p.getDoubleValue();
      } else if (v == JsonToken.VALUE_STRING) {
        d = switch (p.getText()) {
          case "NaN" -> Double.NaN;
          case "Infinity" -> Double.POSITIVE_INFINITY;
          case "-Infinity" -> Double.NEGATIVE_INFINITY;
          default -> Double.MIN_VALUE; // sentinel: rejected below
        };
        if (d == Double.MIN_VALUE) {
          return "field 'metrics." + name + "': expected a number or \"NaN\", \"Infinity\", "
              + "\"-Infinity\", got " + describe(v, p);
        }
      } else {
        return "field 'metrics." + name + "': expected a number, got " + describe(v, p);
      }
      if (name.isEmpty()) {
        return "field 'metrics': metric names must be non-empty";
      }
      if (names.size() == limits.maxMetrics()) {
        return "field 'metrics': more than " + limits.maxMetrics() + " metrics";
      }
      if (names.size() == values.length) {
        values = java.util.Arrays.copyOf(values, values.length * 2);
      }
      values[names.size()] = d;
      names.add(name);
    }
    f.metrics = new Metrics(names.toArray(String[]::new), java.util.Arrays.copyOf(values, names.size()));
    return null;
  }

  private static String readTags(JsonToken t, JsonParser p, Fields f) throws IOException {
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.START_OBJECT) {
      return "field 'tags': expected an object of name -> string, got " + describe(t, p);
    }
    List<String> names = new ArrayList<>();
    List<String> values = new ArrayList<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (!v.isScalarValue() || v == JsonToken.VALUE_NULL) {
        return "field 'tags." + name + "': expected a string, got " + describe(v, p);
      }
      names.add(name);
      values.add(p.getText()); // numbers and booleans are kept as their text
    }
    f.tags = new Tags(names.toArray(String[]::new), values.toArray(String[]::new));
    return null;
  }

  private String readLogits(JsonToken t, JsonParser p, Fields f) throws IOException {
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.START_OBJECT) {
      return "field 'logits': expected an object {dtype, labels, rows}, got " + describe(t, p);
    }
    String dtype = null;
    int[] labels = null;
    double[][] rows = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      switch (name) {
        case "dtype" -> {
          if (v != JsonToken.VALUE_STRING || !DTYPES.contains(p.getText())) {
            return "field 'logits.dtype': expected one of " + new java.util.TreeSet<>(DTYPES)
                + ", got " + describe(v, p);
          }
          dtype = p.getText();
        }
        case "labels" -> {
          if (v != JsonToken.START_ARRAY) {
            return "field 'logits.labels': expected an array of integers, got " + describe(v, p);
          }
          List<Integer> l = new ArrayList<>();
          while ((v = p.nextToken()) != JsonToken.END_ARRAY) {
            if (v != JsonToken.VALUE_NUMBER_INT || p.getLongValue() < 0 || p.getLongValue() > Integer.MAX_VALUE) {
              return "field 'logits.labels[" + l.size() + "]': expected an integer >= 0, got " + describe(v, p);
            }
            l.add(p.getIntValue());
          }
          labels = l.stream().mapToInt(Integer::intValue).toArray();
        }
        case "rows" -> {
          String error = null;
          if (v != JsonToken.START_ARRAY) {
            return "field 'logits.rows': expected an array of arrays of numbers, got " + describe(v, p);
          }
          List<double[]> r = new ArrayList<>();
          while ((v = p.nextToken()) != JsonToken.END_ARRAY) {
            if (r.size() == limits.maxLogitRows()) {
              return "field 'logits.rows': more than " + limits.maxLogitRows() + " rows";
            }
            if (v != JsonToken.START_ARRAY) {
              return "field 'logits.rows[" + r.size() + "]': expected an array of numbers, got " + describe(v, p);
            }
            double[] row = new double[16];
            int n = 0;
            while ((v = p.nextToken()) != JsonToken.END_ARRAY) {
              double d;
              if (v == JsonToken.VALUE_NUMBER_INT || v == JsonToken.VALUE_NUMBER_FLOAT) {
                d = p.getDoubleValue();
              } else if (v == JsonToken.VALUE_STRING && "NaN".equals(p.getText())) {
                d = Double.NaN;
              } else if (v == JsonToken.VALUE_STRING && "Infinity".equals(p.getText())) {
                d = Double.POSITIVE_INFINITY;
              } else if (v == JsonToken.VALUE_STRING && "-Infinity".equals(p.getText())) {
                d = Double.NEGATIVE_INFINITY;
              } else {
                return "field 'logits.rows[" + r.size() + "][" + n + "]': expected a number, got " + describe(v, p);
              }
              if (n == limits.maxLogitColumns()) {
                return "field 'logits.rows[" + r.size() + "]': more than " + limits.maxLogitColumns() + " columns";
              }
              if (n == row.length) {
                row = java.util.Arrays.copyOf(row, row.length * 2);
              }
              row[n++] = d;
            }
            if (n == 0) {
              return "field 'logits.rows[" + r.size() + "]': empty row";
            }
            r.add(n == row.length ? row : java.util.Arrays.copyOf(row, n));
          }
          rows = r.toArray(double[][]::new);
        }
        default -> p.skipChildren();
      }
    }
    if (labels == null || rows == null) {
      return "field 'logits': requires both 'labels' and 'rows'";
    }
    if (labels.length != rows.length) {
      return "field 'logits': " + labels.length + " labels for " + rows.length + " rows";
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] >= rows[i].length) {
        return "field 'logits.labels[" + i + "]': label " + labels[i] + " out of range for a row of "
            + rows[i].length + " logits";
      }
    }
    f.logits = new LogitsSample(dtype, labels, rows);
    return null;
  }

  private static String describe(JsonToken t, JsonParser p) throws IOException {
    if (t == null) {
      return "end of input";
    }
    return switch (t) {
      case VALUE_STRING -> "\"" + abbreviate(p.getText()) + "\"";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE -> p.getText();
      case VALUE_NULL -> "null";
      case START_OBJECT -> "an object";
      case START_ARRAY -> "an array";
      default -> t.toString();
    };
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  /** Mutable accumulator of one parse; never escapes. */
  private static final class Fields {
    String run;
    long step = -1;
    long timeMs = -1;
    String task;
    String event;
    Metrics metrics;
    Tags tags;
    LogitsSample logits;

    ParseResult reject(String reason) {
      return new ParseResult.Rejected(reason, run);
    }

    ParseResult build() {
      return new ParseResult.Parsed(
          new TelemetryRecord(run, step, timeMs, task, event, metrics, tags, logits));
    }
  }
}
