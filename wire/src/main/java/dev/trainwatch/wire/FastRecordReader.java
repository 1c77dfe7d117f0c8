package dev.trainwatch.wire;

import ch.randelshofer.fastdoubleparser.JsonDoubleParser;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The fast path of {@link TelemetryParser}: reads the shape nearly every record has straight from
 * its bytes, and gives up on anything else, leaving it to the full (Jackson) parse.
 *
 * <p>Why: parsing was half of the detection job's per-record cost. A generic tokenizer pays for
 * symbol tables, text buffers and number states on every one of a record's ~20 metrics; this reader
 * knows the format, decodes names through a {@link StringCache} (no allocation once a name has been
 * seen) and numbers with an allocation-free, correctly rounded parser.
 *
 * <p>The subset it accepts: ASCII strings without escapes or control characters; the fields {@code
 * run}, {@code step}, {@code time_ms}, {@code task}, {@code event}, {@code metrics} and {@code
 * tags} (string values), each at most once, and {@code logits} only when null; numbers within the
 * JSON grammar; every name, tag and step within the parser's {@link TelemetryParser.Limits}.
 * Anything else, and any defect at all (a duplicate key included), returns null: the full parser
 * owns every error message, so a rejected line reads the same whichever path saw it first. The
 * contract, checked by a differential test against the full parser: whatever this reader accepts,
 * the full parser accepts as an equal record.
 */
final class FastRecordReader {

  /** Longer numbers go to the full parser, which enforces Jackson's number-length limit. */
  private static final int MAX_NUMBER_LENGTH = 100;

  /** Integers of up to 18 digits cannot overflow a long. */
  private static final int MAX_INTEGER_DIGITS = 18;

  private static final byte[] RUN = bytes("run");
  private static final byte[] STEP = bytes("step");
  private static final byte[] TIME_MS = bytes("time_ms");
  private static final byte[] TASK = bytes("task");
  private static final byte[] EVENT = bytes("event");
  private static final byte[] METRICS = bytes("metrics");
  private static final byte[] TAGS = bytes("tags");
  private static final byte[] LOGITS = bytes("logits");
  private static final byte[] INFINITY = bytes("Infinity");
  private static final String[] EVENT_NAMES = {
    TelemetryRecord.RUN_START,
    TelemetryRecord.RUN_END,
    TelemetryRecord.TASK_START,
    TelemetryRecord.CHECKPOINT
  };
  private static final byte[][] EVENT_BYTES =
      Arrays.stream(EVENT_NAMES).map(FastRecordReader::bytes).toArray(byte[][]::new);

  /** 10^0 .. 10^22: every one exactly representable as a double. */
  private static final double[] POWERS_OF_TEN = new double[23];

  static {
    POWERS_OF_TEN[0] = 1;
    for (int i = 1; i < POWERS_OF_TEN.length; i++) {
      POWERS_OF_TEN[i] = POWERS_OF_TEN[i - 1] * 10;
    }
  }

  /** Thrown to leave the fast path; preallocated and without a stack trace, so leaving is cheap. */
  private static final class Miss extends RuntimeException {
    private static final long serialVersionUID = 1L;
    static final Miss INSTANCE = new Miss();

    private Miss() {
      super(null, null, false, false);
    }
  }

  /**
   * What the reader remembers from one record to the next: decoded names and values and the
   * metric-name sequences ({@link Shape}s) of recent records. One per {@link TelemetryParser}, so
   * parsers in different operator slots, or a test's parser and the job's, neither share nor evict
   * each other's entries (a static cache did both, and bounced its lines between the cores of every
   * slot). Shared by the threads of one parser without locks: entries and shapes are immutable and
   * the rest are hints, so a race at worst misses and decodes again.
   */
  static final class Caches {
    /** Sized for per-layer records (1,000s of names): a collision costs a decode and an intern. */
    final StringCache names = new StringCache(8192, true);

    final StringCache values = new StringCache(8192, false);

    /** Recently seen shapes (a fleet mixes a few: scalars only, scalars + eval, per-layer). */
    final Shape[] shapes = new Shape[8];

    /** The slot of the shape that matched last: the first guess for the next record. */
    int lastShape;

    int nextShapeSlot;
  }

  /**
   * A sequence of metric names seen before: the names array every record of this shape shares (so
   * {@link NameIndex} finds its index by identity), and the names' entries, matched against the
   * bytes by position. Immutable; already checked for duplicates.
   */
  record Shape(String[] names, StringCache.Entry[] entries) {}

  private final byte[] b;
  private final TelemetryParser.Limits limits;
  private final Caches caches;
  private final Shape[] shapes;
  private int pos;

  private FastRecordReader(byte[] b, TelemetryParser.Limits limits, Caches caches) {
    this.b = b;
    this.limits = limits;
    this.caches = caches;
    this.shapes = caches.shapes;
  }

  /** The record, or null when the bytes leave the fast subset or are invalid. */
  static TelemetryRecord read(byte[] bytes, TelemetryParser.Limits limits, Caches caches) {
    try {
      return new FastRecordReader(bytes, limits, caches).record();
    } catch (RuntimeException e) {
      // Miss, or the number parser's NumberFormatException; and should this reader ever trip
      // over an input in a way not foreseen, the full parser still decides, so bad input can
      // never take the pipeline down through the fast path.
      return null;
    }
  }

  private TelemetryRecord record() {
    String run = null;
    long step = -1;
    long timeMs = -1;
    String task = null;
    String event = null;
    Metrics metrics = null;
    Tags tags = null;
    int seen = 0; // one bit per field: a duplicate key goes to the full parser, which rejects it
    skipWhitespace();
    expect('{');
    skipWhitespace();
    if (!eat('}')) {
      do {
        skipWhitespace();
        int key = string();
        int keyLength = pos - 1 - key;
        skipWhitespace();
        expect(':');
        skipWhitespace();
        int field;
        if (is(RUN, key, keyLength)) {
          field = 1;
          run = run();
        } else if (is(STEP, key, keyLength)) {
          field = 2;
          step = integer();
        } else if (is(METRICS, key, keyLength)) {
          field = 4;
          metrics = eatNull() ? metrics : metrics();
        } else if (is(TIME_MS, key, keyLength)) {
          field = 8;
          timeMs = eatNull() ? timeMs : integer();
        } else if (is(TASK, key, keyLength)) {
          field = 16;
          task = eatNull() ? task : task();
        } else if (is(EVENT, key, keyLength)) {
          field = 32;
          event = eatNull() ? event : event();
        } else if (is(TAGS, key, keyLength)) {
          field = 64;
          tags = eatNull() ? tags : tags();
        } else if (is(LOGITS, key, keyLength) && eatNull()) {
          field = 128;
        } else {
          throw Miss.INSTANCE; // sampled logits, or a field the full parser skips
        }
        if ((seen & field) != 0) {
          throw Miss.INSTANCE;
        }
        seen |= field;
        skipWhitespace();
      } while (eat(','));
      expect('}');
    }
    skipWhitespace();
    if (pos != b.length
        || run == null
        || step < 0
        || (TelemetryRecord.TASK_START.equals(event) && task == null)) {
      throw Miss.INSTANCE;
    }
    return new TelemetryRecord(run, step, timeMs, task, event, metrics, tags, null);
  }

  private String run() {
    int start = string();
    if (pos - 1 - start > limits.maxNameLength()) {
      throw Miss.INSTANCE;
    }
    for (int i = start; i < pos - 1; i++) {
      if (b[i] != ' ') {
        return caches.values.get(b, start, pos - 1 - start);
      }
    }
    throw Miss.INSTANCE; // blank
  }

  private String task() {
    int start = string();
    if (pos - 1 == start || pos - 1 - start > limits.maxNameLength()) {
      throw Miss.INSTANCE;
    }
    return caches.values.get(b, start, pos - 1 - start);
  }

  private String event() {
    int start = string();
    for (int i = 0; i < EVENT_BYTES.length; i++) {
      if (is(EVENT_BYTES[i], start, pos - 1 - start)) {
        return EVENT_NAMES[i];
      }
    }
    throw Miss.INSTANCE;
  }

  private Metrics metrics() {
    expect('{');
    skipWhitespace();
    if (eat('}')) {
      return Metrics.EMPTY;
    }
    // Producers send the same names in the same order step after step: while the names match a
    // known shape by position (two word compares a name), the record reuses the shape's names
    // array and needs no decoding, caching or duplicate check. The first name that differs
    // switches to another shape with the same prefix, or leaves for the general path.
    int slot = caches.lastShape;
    Shape shape = shapes[slot];
    String[] names = null; // the general path's own names, once it has left every shape
    StringCache.Entry[] entries = null;
    double[] values = new double[shape != null ? shape.names.length : 16];
    int n = 0;
    do {
      skipWhitespace();
      expect('"');
      if (shape != null) {
        StringCache.Entry e = n < shape.entries.length ? shape.entries[n] : null;
        if (e == null || !e.isQuotedAt(b, pos)) {
          int other = sameUpTo(shape, n);
          if (other >= 0) {
            slot = other;
            shape = shapes[other];
            e = shape.entries[n];
          } else {
            names = Arrays.copyOf(shape.names, Math.max(16, n * 2));
            entries = Arrays.copyOf(shape.entries, names.length);
            shape = null;
            e = null;
          }
        }
        if (e != null) {
          if (e.length() > limits.maxNameLength()) {
            throw Miss.INSTANCE; // limits are the caller's: the same caches may serve other limits
          }
          pos += e.length() + 1;
        }
      }
      if (shape == null) {
        if (names == null) {
          names = new String[16];
          entries = new StringCache.Entry[16];
        }
        if (n == names.length) {
          names = Arrays.copyOf(names, n * 2);
          entries = Arrays.copyOf(entries, n * 2);
        }
        StringCache.Entry e = metricName();
        names[n] = e.string();
        entries[n] = e;
      }
      skipWhitespace();
      expect(':');
      skipWhitespace();
      double value = metricValue();
      if (n == limits.maxMetrics()) {
        throw Miss.INSTANCE;
      }
      if (n == values.length) {
        values = Arrays.copyOf(values, n * 2);
      }
      values[n++] = value;
      skipWhitespace();
    } while (eat(','));
    expect('}');
    if (shape != null && n == shape.names.length) {
      if (caches.lastShape != slot) {
        caches.lastShape =
            slot; // written on change only: a per-record write would bounce the line between cores
      }
      return new Metrics(shape.names, values.length == n ? values : Arrays.copyOf(values, n));
    }
    if (shape != null) { // a prefix of a known shape
      names = Arrays.copyOf(shape.names, n);
      entries = Arrays.copyOf(shape.entries, n);
    } else {
      names = Arrays.copyOf(names, n);
      entries = Arrays.copyOf(entries, n);
    }
    NameIndex index = NameIndex.build(names);
    if (index == null) {
      throw Miss.INSTANCE; // duplicate metric: the full parser rejects it with its message
    }
    if (n >= NameIndex.MIN_NAMES) {
      NameIndex.remember(index);
    }
    int s = caches.nextShapeSlot;
    caches.nextShapeSlot = (s + 1) & (shapes.length - 1);
    shapes[s] = new Shape(names, entries);
    caches.lastShape = s;
    return new Metrics(names, values.length == n ? values : Arrays.copyOf(values, n));
  }

  /**
   * A known shape other than {@code current} whose first {@code n} names are those of {@code
   * current} and whose next name is at {@code pos}; -1 if none.
   */
  private int sameUpTo(Shape current, int n) {
    for (int i = 0; i < shapes.length; i++) {
      Shape s = shapes[i];
      if (s == null || s == current || s.entries.length <= n || !s.entries[n].isQuotedAt(b, pos)) {
        continue;
      }
      boolean same = true;
      for (int k = 0; k < n && same; k++) {
        same = s.names[k] == current.names[k] || s.names[k].equals(current.names[k]);
      }
      if (same) {
        return i;
      }
    }
    return -1;
  }

  private static boolean contains(String[] names, int n, String name) {
    for (int i = 0; i < n; i++) {
      if (names[i].equals(name)) {
        return true;
      }
    }
    return false;
  }

  /** A metric name after its opening quote, through the name cache (any length). */
  private StringCache.Entry metricName() {
    pos--;
    int start = string();
    int length = pos - 1 - start;
    if (length == 0 || length > limits.maxNameLength()) {
      throw Miss.INSTANCE;
    }
    if (length > StringCache.MAX_LENGTH) {
      return StringCache.entryOf(caches.names.get(b, start, length).intern());
    }
    return caches.names.entry(b, start, length);
  }

  private double metricValue() {
    if (peek() != '"') {
      return number();
    }
    int start = string();
    int length = pos - 1 - start;
    if (length == 3 && b[start] == 'N' && b[start + 1] == 'a' && b[start + 2] == 'N') {
      return Double.NaN;
    }
    if (length == 8 && is(INFINITY, start, 8)) {
      return Double.POSITIVE_INFINITY;
    }
    if (length == 9 && b[start] == '-' && is(INFINITY, start + 1, 8)) {
      return Double.NEGATIVE_INFINITY;
    }
    throw Miss.INSTANCE;
  }

  private Tags tags() {
    expect('{');
    skipWhitespace();
    if (eat('}')) {
      return Tags.EMPTY;
    }
    String[] names = new String[4];
    String[] values = new String[4];
    int n = 0;
    do {
      skipWhitespace();
      int name = string();
      int nameLength = pos - 1 - name;
      skipWhitespace();
      expect(':');
      skipWhitespace();
      int value = string(); // numbers and booleans, which the full parser keeps as text, miss here
      int valueLength = pos - 1 - value;
      if (nameLength == 0
          || nameLength > limits.maxNameLength()
          || valueLength > limits.maxTagValueLength()
          || n == limits.maxTags()) {
        throw Miss.INSTANCE;
      }
      if (n == names.length) {
        names = Arrays.copyOf(names, n * 2);
        values = Arrays.copyOf(values, n * 2);
      }
      String tag = caches.names.get(b, name, nameLength);
      if (contains(names, n, tag)) {
        throw Miss.INSTANCE; // duplicate tag; tags are few, so a scan is cheap
      }
      names[n] = tag;
      values[n++] = caches.values.get(b, value, valueLength);
      skipWhitespace();
    } while (eat(','));
    expect('}');
    return new Tags(Arrays.copyOf(names, n), Arrays.copyOf(values, n));
  }

  /**
   * A string of plain ASCII (no escape, no control character); returns the index of its first byte
   * and leaves {@code pos} after the closing quote.
   */
  private int string() {
    expect('"');
    byte[] b = this.b;
    int start = pos;
    for (int i = start; i < b.length; i++) {
      byte c = b[i];
      if (c == '"') {
        pos = i + 1;
        return start;
      }
      if (c < 0x20 || c == '\\'
          || c == 0x7f) { // bytes >= 0x80 are negative: non-ASCII goes to the full parser
        throw Miss.INSTANCE;
      }
    }
    throw Miss.INSTANCE;
  }

  /** A JSON integer >= 0 of at most 18 digits and within {@code maxStep} (step, time_ms). */
  private long integer() {
    int start = pos;
    long v = 0;
    int c;
    while ((c = peek()) >= '0' && c <= '9') {
      v = v * 10 + (c - '0');
      pos++;
    }
    int digits = pos - start;
    if (digits == 0
        || digits > MAX_INTEGER_DIGITS
        || (digits > 1 && b[start] == '0')
        || c == '.'
        || c == 'e'
        || c == 'E'
        || v > limits.maxStep()) {
      throw Miss.INSTANCE;
    }
    return v;
  }

  /**
   * A JSON number as a double, exactly as the full parser reads it. The grammar is checked here
   * (the number parser itself takes {@code 1.}). Integers of up to 18 digits go through a long, as
   * in Jackson (so {@code -0} is 0.0, as there). Decimals whose digits fit in 53 bits and whose
   * exponent is within +-22 are one exact division or multiplication, hence correctly rounded
   * (Clinger's fast path); the rest go to a correctly rounded parser, as in Jackson.
   */
  private double number() {
    byte[] b = this.b;
    int p = pos;
    int start = p;
    boolean negative = p < b.length && b[p] == '-';
    if (negative) {
      p++;
    }
    long mantissa = 0;
    int integerStart = p;
    while (p < b.length && b[p] >= '0' && b[p] <= '9') {
      mantissa = mantissa * 10 + (b[p++] - '0');
    }
    int integerDigits = p - integerStart;
    if (integerDigits == 0 || (integerDigits > 1 && b[integerStart] == '0')) {
      throw Miss.INSTANCE;
    }
    int fractionDigits = 0;
    if (p < b.length && b[p] == '.') {
      int fractionStart = ++p;
      while (p < b.length && b[p] >= '0' && b[p] <= '9') {
        mantissa = mantissa * 10 + (b[p++] - '0');
      }
      fractionDigits = p - fractionStart;
      if (fractionDigits == 0) {
        throw Miss.INSTANCE;
      }
    }
    boolean hasExponent = p < b.length && (b[p] == 'e' || b[p] == 'E');
    int exponent = 0;
    if (hasExponent) {
      p++;
      boolean negativeExponent = p < b.length && b[p] == '-';
      if (p < b.length && (b[p] == '-' || b[p] == '+')) {
        p++;
      }
      int exponentStart = p;
      while (p < b.length && b[p] >= '0' && b[p] <= '9') {
        exponent =
            Math.min(exponent * 10 + (b[p++] - '0'), 100_000); // saturated: 0 or infinity by then
      }
      if (p == exponentStart) {
        throw Miss.INSTANCE;
      }
      exponent = negativeExponent ? -exponent : exponent;
    }
    pos = p;
    int length = p - start;
    if (length > MAX_NUMBER_LENGTH) {
      throw Miss.INSTANCE;
    }
    int digits = integerDigits + fractionDigits; // may count leading zeros: only ever too cautious
    if (fractionDigits == 0 && !hasExponent) {
      if (digits > MAX_INTEGER_DIGITS) {
        throw Miss.INSTANCE;
      }
      return negative ? (double) -mantissa : (double) mantissa;
    }
    int scale = exponent - fractionDigits;
    if (digits <= MAX_INTEGER_DIGITS && mantissa <= (1L << 53) && scale >= -22 && scale <= 22) {
      double m = negative ? -(double) mantissa : (double) mantissa;
      return scale < 0 ? m / POWERS_OF_TEN[-scale] : m * POWERS_OF_TEN[scale];
    }
    return JsonDoubleParser.parseDouble(b, start, length);
  }

  private boolean eatNull() {
    if (pos + 4 <= b.length
        && b[pos] == 'n'
        && b[pos + 1] == 'u'
        && b[pos + 2] == 'l'
        && b[pos + 3] == 'l') {
      pos += 4;
      return true;
    }
    return false;
  }

  private int peek() {
    return pos < b.length ? b[pos] : -1;
  }

  private boolean eat(char c) {
    if (pos < b.length && b[pos] == c) {
      pos++;
      return true;
    }
    return false;
  }

  private void expect(char c) {
    if (!eat(c)) {
      throw Miss.INSTANCE;
    }
  }

  /** JSON whitespace only; anything else the full parser might tolerate is its business. */
  private void skipWhitespace() {
    byte[] b = this.b;
    int p = pos;
    while (p < b.length && (b[p] == ' ' || b[p] == '\n' || b[p] == '\r' || b[p] == '\t')) {
      p++;
    }
    pos = p;
  }

  private boolean is(byte[] literal, int off, int len) {
    return len == literal.length && Arrays.equals(b, off, off + len, literal, 0, len);
  }

  private static byte[] bytes(String ascii) {
    return ascii.getBytes(StandardCharsets.US_ASCII);
  }
}
