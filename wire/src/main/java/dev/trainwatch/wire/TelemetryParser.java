package dev.trainwatch.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Parses and validates one telemetry record (one JSON object) per {@code shared/eval/FORMAT.md}.
 *
 * <p>Never throws on bad input: every defect becomes a {@link ParseResult.Rejected} whose reason
 * names the field, so every ingest path (Kafka, HTTP, file tail) reports the same, specific error.
 * Unknown top-level fields are ignored so newer producers keep working. Records of the common shape
 * are read by {@link FastRecordReader}; everything else, and every defect, by Jackson's streaming
 * parser, which owns all error messages. Thread-safe.
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

  /**
   * Limits that keep one hostile record from exhausting memory, or from becoming state the job
   * cannot checkpoint (a string over 65,535 bytes cannot be written by {@code writeUTF}), or series
   * InfluxDB cannot store. Lengths are in characters (UTF-16 units).
   *
   * @param maxBytes bytes of one record (4 MiB; the sidecar lowers it below Kafka's message size)
   * @param maxMetrics metrics of one record (4096)
   * @param maxLogitRows sampled logit rows (1024)
   * @param maxLogitColumns logits per row (65,536: a large vocabulary)
   * @param maxNameLength characters of {@code run}, {@code task}, a metric name and a tag name
   *     (256): identifiers, also Kafka keys and InfluxDB tags; 256 characters are at most 768 bytes
   *     of modified UTF-8, far below {@code writeUTF}'s 65,535
   * @param maxTags tags of one record (64)
   * @param maxTagValueLength characters of a tag value (1024: a config string or a path)
   * @param maxStep largest {@code step} and {@code time_ms} (2^53 - 1 = 9,007,199,254,740,991): the
   *     largest integer a double holds exactly, so Python, JSON tools and InfluxDB read it intact;
   *     a step of 2^63 - 1 would have made every later step of the run look old
   */
  public record Limits(
      int maxBytes,
      int maxMetrics,
      int maxLogitRows,
      int maxLogitColumns,
      int maxNameLength,
      int maxTags,
      int maxTagValueLength,
      long maxStep) {
    public static final Limits DEFAULT =
        new Limits(4 << 20, 4096, 1024, 1 << 16, 256, 64, 1024, (1L << 53) - 1);

    /** The given size limits with the default identifier, tag and step limits. */
    public Limits(int maxBytes, int maxMetrics, int maxLogitRows, int maxLogitColumns) {
      this(maxBytes, maxMetrics, maxLogitRows, maxLogitColumns, 256, 64, 1024, (1L << 53) - 1);
    }

    /** These limits with another record size (the sidecar's, below Kafka's message size). */
    public Limits withMaxBytes(int bytes) {
      return new Limits(
          bytes,
          maxMetrics,
          maxLogitRows,
          maxLogitColumns,
          maxNameLength,
          maxTags,
          maxTagValueLength,
          maxStep);
    }
  }

  public static final TelemetryParser DEFAULT = new TelemetryParser(Limits.DEFAULT);

  static final Set<String> EVENTS =
      Set.of(
          TelemetryRecord.RUN_START,
          TelemetryRecord.RUN_END,
          TelemetryRecord.TASK_START,
          TelemetryRecord.CHECKPOINT);
  static final Set<String> DTYPES = Set.of("float32", "bfloat16", "float16", "float64");

  private final Limits limits;
  private final JsonFactory factory;

  /**
   * The fast path's name and value caches: this parser's own (one per operator slot in the job).
   */
  private final FastRecordReader.Caches fastCaches = new FastRecordReader.Caches();

  public TelemetryParser(Limits limits) {
    this.limits = limits;
    this.factory =
        JsonFactory.builder()
            // ~20 floats a record: the JDK's Double.parseDouble dominated the parse cost
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            // a second "run" would key a record by one run and attribute it to another
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(
                StreamReadConstraints.builder().maxStringLength(limits.maxBytes()).build())
            .build();
  }

  /**
   * The {@code run} a record names, read without validating or building the record (it is usually
   * the first field, so this stops after a few tokens); null when the bytes are not a JSON object
   * with a string {@code run}. Used to route a record to its run before the full parse. Consistent
   * with {@link #parse}: a record with a second {@code run} is rejected there, so the first one,
   * returned here, is the only one any accepted record has.
   */
  public String peekRun(byte[] bytes) {
    if (bytes == null || bytes.length == 0 || bytes.length > limits.maxBytes()) {
      return null;
    }
    String run = peekLeadingRun(bytes);
    return run != null ? run : peekRunFully(bytes);
  }

  /** {@link #peekRun} through Jackson alone (tests compare both paths). */
  String peekRunFully(byte[] bytes) {
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

  private static final byte[] RUN_KEY = {'"', 'r', 'u', 'n', '"'};

  /**
   * The fast path of {@link #peekRun}: a record that opens with {@code "run"} and a plain ASCII
   * string (what every producer of FORMAT.md writes) is read straight from its bytes, through a
   * shared cache of run names, so routing costs a few ns and no parser; anything else is null and
   * left to Jackson. Whatever this returns, Jackson reads the same.
   */
  static String peekLeadingRun(byte[] b) {
    int p = skipWhitespace(b, 0);
    if (p >= b.length || b[p] != '{') {
      return null;
    }
    p = skipWhitespace(b, p + 1);
    if (p + RUN_KEY.length > b.length
        || !Arrays.equals(b, p, p + RUN_KEY.length, RUN_KEY, 0, RUN_KEY.length)) {
      return null;
    }
    p = skipWhitespace(b, p + RUN_KEY.length);
    if (p >= b.length || b[p] != ':') {
      return null;
    }
    p = skipWhitespace(b, p + 1);
    if (p >= b.length || b[p] != '"') {
      return null;
    }
    int start = ++p;
    for (; p < b.length; p++) {
      byte c = b[p];
      if (c == '"') {
        return TelemetryBinary.RUNS.get(b, start, p - start);
      }
      if (c < 0x20 || c == '\\' || c == 0x7f) { // non-ASCII bytes are negative
        return null;
      }
    }
    return null;
  }

  private static int skipWhitespace(byte[] b, int p) {
    while (p < b.length && (b[p] == ' ' || b[p] == '\n' || b[p] == '\r' || b[p] == '\t')) {
      p++;
    }
    return p;
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
    TelemetryRecord fast = FastRecordReader.read(bytes, limits, fastCaches);
    return fast != null ? new ParseResult.Parsed(fast) : parseFully(bytes);
  }

  public Limits limits() {
    return limits;
  }

  FastRecordReader.Caches fastCaches() {
    return fastCaches;
  }

  /**
   * The Jackson path alone: every shape and every error message (tests compare both paths). Strict
   * UTF-8 is checked here only: the fast path accepts nothing but ASCII.
   */
  ParseResult parseFully(byte[] bytes) {
    String encoding = Utf8.check(bytes);
    if (encoding != null) {
      return new ParseResult.Rejected(encoding, null);
    }
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
      String error =
          switch (name) {
            case "run" -> readRun(t, p, f);
            case "step" -> readStep(t, p, f);
            case "time_ms" -> readTime(t, p, f);
            case "task" -> {
              if (t == JsonToken.VALUE_NULL) {
                yield null;
              }
              f.task = t == JsonToken.VALUE_STRING ? p.getText() : null;
              yield f.task == null || f.task.isEmpty()
                  ? "field 'task': expected a non-empty string"
                  : identifier("task", f.task, limits.maxNameLength());
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

  private String readRun(JsonToken t, JsonParser p, Fields f) throws IOException {
    if (t != JsonToken.VALUE_STRING || p.getText().isBlank()) {
      return "field 'run': expected a non-empty string, got " + describe(t, p);
    }
    String error = identifier("run", p.getText(), limits.maxNameLength());
    if (error == null) {
      f.run = p.getText(); // an invalid run is not named in the dead letter either
    }
    return error;
  }

  private String readStep(JsonToken t, JsonParser p, Fields f) throws IOException {
    if (t != JsonToken.VALUE_NUMBER_INT
        || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
        || p.getLongValue() < 0) {
      return "field 'step': expected an integer >= 0, got " + describe(t, p);
    }
    if (p.getLongValue() > limits.maxStep()) {
      return "field 'step': " + p.getLongValue() + " exceeds the limit of " + limits.maxStep();
    }
    f.step = p.getLongValue();
    return null;
  }

  private String readTime(JsonToken t, JsonParser p, Fields f) throws IOException {
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.VALUE_NUMBER_INT
        || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
        || p.getLongValue() < 0) {
      return "field 'time_ms': expected Unix milliseconds (integer >= 0), got " + describe(t, p);
    }
    if (p.getLongValue() > limits.maxStep()) {
      return "field 'time_ms': " + p.getLongValue() + " exceeds the limit of " + limits.maxStep();
    }
    f.timeMs = p.getLongValue();
    return null;
  }

  /**
   * Null when {@code value} is a valid identifier of at most {@code max} characters: no control
   * character (a newline cannot be written into an InfluxDB tag, and splits every line format), no
   * backslash (InfluxDB 1.x has no escape for it in tags: a name ending in one lost its points) and
   * no unpaired surrogate (a {@code \uD800} escape would turn into '?' once encoded, so the Kafka
   * key and the record would name different runs). Else the reason, naming the field.
   */
  static String identifier(String field, String value, int max) {
    return identifier(field, value, max, true);
  }

  /**
   * As {@link #identifier(String, String, int)}; {@code identifierOnly} false for tag values
   * (stored as strings).
   */
  static String identifier(String field, String value, int max, boolean identifierOnly) {
    if (value.length() > max) {
      return "field '" + field + "': " + value.length() + " characters exceed the limit of " + max;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        return String.format(
            Locale.ROOT, "field '%s': control character U+%04X at index %d", field, (int) c, i);
      }
      if (c == '\\' && identifierOnly) {
        return "field '"
            + field
            + "': backslash at index "
            + i
            + ": InfluxDB's line protocol cannot store every "
            + "backslash in a name (one at the end, or before a space, comma or equals sign, is lost)";
      }
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < value.length()
            && Character.isLowSurrogate(value.charAt(i + 1))) {
          i++;
        } else {
          return String.format(
              Locale.ROOT, "field '%s': unpaired surrogate U+%04X at index %d", field, (int) c, i);
        }
      }
    }
    return null;
  }

  private static String readEvent(JsonToken t, JsonParser p, Fields f) throws IOException {
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.VALUE_STRING || !EVENTS.contains(p.getText())) {
      return "field 'event': expected one of " + new TreeSet<>(EVENTS) + ", got " + describe(t, p);
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
        d =
            switch (p.getText()) {
              case "NaN" -> Double.NaN;
              case "Infinity" -> Double.POSITIVE_INFINITY;
              case "-Infinity" -> Double.NEGATIVE_INFINITY;
              default -> Double.MIN_VALUE; // sentinel: rejected below
            };
        if (d == Double.MIN_VALUE) {
          return "field 'metrics."
              + name
              + "': expected a number or \"NaN\", \"Infinity\", "
              + "\"-Infinity\", got "
              + describe(v, p);
        }
      } else {
        return "field 'metrics." + name + "': expected a number, got " + describe(v, p);
      }
      if (name.isEmpty()) {
        return "field 'metrics': metric names must be non-empty";
      }
      String invalid = identifier("metrics." + abbreviate(name), name, limits.maxNameLength());
      if (invalid != null) {
        return invalid;
      }
      if (names.size() == limits.maxMetrics()) {
        return "field 'metrics': more than " + limits.maxMetrics() + " metrics";
      }
      if (names.size() == values.length) {
        values = Arrays.copyOf(values, values.length * 2);
      }
      values[names.size()] = d;
      names.add(name);
    }
    f.metrics = new Metrics(names.toArray(String[]::new), Arrays.copyOf(values, names.size()));
    return null;
  }

  private String readTags(JsonToken t, JsonParser p, Fields f) throws IOException {
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
      if (names.size() == limits.maxTags()) {
        return "field 'tags': more than " + limits.maxTags() + " tags";
      }
      String field = "tags." + abbreviate(name);
      String invalid =
          name.isEmpty()
              ? "field 'tags': tag names must be non-empty"
              : identifier(field, name, limits.maxNameLength());
      if (invalid == null) {
        invalid = identifier(field, p.getText(), limits.maxTagValueLength(), false);
      }
      if (invalid != null) {
        return invalid;
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
            return "field 'logits.dtype': expected one of "
                + new TreeSet<>(DTYPES)
                + ", got "
                + describe(v, p);
          }
          dtype = p.getText();
        }
        case "labels" -> {
          if (v != JsonToken.START_ARRAY) {
            return "field 'logits.labels': expected an array of integers, got " + describe(v, p);
          }
          List<Integer> l = new ArrayList<>();
          while ((v = p.nextToken()) != JsonToken.END_ARRAY) {
            if (v != JsonToken.VALUE_NUMBER_INT
                || p.getLongValue() < 0
                || p.getLongValue() > Integer.MAX_VALUE) {
              return "field 'logits.labels["
                  + l.size()
                  + "]': expected an integer >= 0, got "
                  + describe(v, p);
            }
            l.add(p.getIntValue());
          }
          labels = l.stream().mapToInt(Integer::intValue).toArray();
        }
        case "rows" -> {
          String error = null;
          if (v != JsonToken.START_ARRAY) {
            return "field 'logits.rows': expected an array of arrays of numbers, got "
                + describe(v, p);
          }
          List<double[]> r = new ArrayList<>();
          while ((v = p.nextToken()) != JsonToken.END_ARRAY) {
            if (r.size() == limits.maxLogitRows()) {
              return "field 'logits.rows': more than " + limits.maxLogitRows() + " rows";
            }
            if (v != JsonToken.START_ARRAY) {
              return "field 'logits.rows["
                  + r.size()
                  + "]': expected an array of numbers, got "
                  + describe(v, p);
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
                return "field 'logits.rows["
                    + r.size()
                    + "]["
                    + n
                    + "]': expected a number, got "
                    + describe(v, p);
              }
              if (n == limits.maxLogitColumns()) {
                return "field 'logits.rows["
                    + r.size()
                    + "]': more than "
                    + limits.maxLogitColumns()
                    + " columns";
              }
              if (n == row.length) {
                row = Arrays.copyOf(row, row.length * 2);
              }
              row[n++] = d;
            }
            if (n == 0) {
              return "field 'logits.rows[" + r.size() + "]': empty row";
            }
            r.add(n == row.length ? row : Arrays.copyOf(row, n));
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
        return "field 'logits.labels["
            + i
            + "]': label "
            + labels[i]
            + " out of range for a row of "
            + rows[i].length
            + " logits";
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
