package dev.trainwatch.wire;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The compact binary encoding of a validated {@link TelemetryRecord} on the internal telemetry
 * topic, between the sidecar (which has parsed and validated the record already) and the job.
 * FORMAT.md's JSON stays the contract of every producer: the job tells the two apart by the first
 * byte, {@value #MAGIC_HEX}, a UTF-8 continuation byte, which starts no UTF-8 text and hence no
 * JSON, so JSON from any other producer (kcat, clients, {@code replay}) keeps working on the same
 * topic.
 *
 * <p>Why: the job read each record twice (the run for routing, then everything), and reading JSON
 * was most of its per-record cost, 65-78 ns a metric; this form is read at a few ns a metric, and a
 * per-layer record is about a third of its JSON size.
 *
 * <h2>Version 1</h2>
 *
 * Varints are unsigned LEB128; doubles are their IEEE 754 bits ({@link
 * Double#doubleToRawLongBits}), little-endian; strings are a varint byte length and UTF-8.
 *
 * <pre>
 * magic 0xB7 | version 1 | flags (1 time_ms, 2 task, 4 event, 8 tags, 16 logits)
 * run: string | step: varint | [time_ms: varint] | [task: string] | [event: byte, 0-3]
 * metrics: varint n, then if n > 0: varint names-block length, names block, width byte, values
 *   names block: per name, varint bytes shared with the previous name, varint suffix length,
 *   suffix (front coding: "grad_norm/layer.17" after "grad_norm/layer.16" costs 3 bytes)
 *   width 8: n x 8-byte double; width 4: a bitmap of n bits (bit i of byte i / 8 set: value i
 *   is a float32, 4 bytes, exactly the double), then each value in 4 or 8 bytes
 * [tags: varint n, n x (name: string, value: string)]
 * [logits: dtype byte (0 none, 1 float32, 2 bfloat16, 3 float16, 4 float64), varint rows,
 *   per row: varint label, varint columns, width byte (4: float32 values, exact; 8: doubles),
 *   columns x width bytes]
 * </pre>
 *
 * Producers send the same metric names step after step, so the {@link Decoder} compares a record's
 * names block with the blocks it has seen (one vectorised compare) and reuses their validated,
 * interned names array: a record of a known shape decodes no name at all. The block is inline in
 * every record, not in a dictionary elsewhere, so every record decodes on its own (a consumer may
 * start anywhere in the topic).
 *
 * <p>The decoder trusts nothing: whoever can write to the topic can write this form, so it applies
 * every check of {@link TelemetryParser} (limits, identifiers, duplicates, events, dtypes, label
 * ranges) and rejects with a reason instead of throwing. Names of a known shape were checked when
 * the shape was first seen.
 */
public final class TelemetryBinary {

  /** The first byte of every binary record: a UTF-8 continuation byte, so never JSON. */
  public static final byte MAGIC = (byte) 0xB7;

  static final String MAGIC_HEX = "0xB7";

  /** The version this code writes and reads. */
  public static final byte VERSION = 1;

  private static final int F_TIME = 1;
  private static final int F_TASK = 2;
  private static final int F_EVENT = 4;
  private static final int F_TAGS = 8;
  private static final int F_LOGITS = 16;

  private static final String[] EVENTS = {
    TelemetryRecord.RUN_START,
    TelemetryRecord.RUN_END,
    TelemetryRecord.TASK_START,
    TelemetryRecord.CHECKPOINT
  };

  private static final String[] DTYPES = {null, "float32", "bfloat16", "float16", "float64"};

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle INTS =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

  /**
   * Run names as routing peeks them, shared by every thread: the same instance for the same run, so
   * its hash (keyBy, keyed state) is computed once, not per record. Lossy and lock-free.
   */
  static final StringCache RUNS = new StringCache(16384, false);

  private TelemetryBinary() {}

  /** Whether {@code value} is in this encoding (else it is JSON, or garbage for the parser). */
  public static boolean isBinary(byte[] value) {
    return value != null && value.length > 0 && value[0] == MAGIC;
  }

  /**
   * The run name in {@code len} UTF-8 bytes at {@code off}, through the shared cache of run names
   * when ASCII (the same instance, with its hash computed, for the same run): for readers of run
   * names shipped between tasks.
   */
  public static String runName(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      if (b[i] < 0) {
        return new String(b, off, len, StandardCharsets.UTF_8);
      }
    }
    return RUNS.get(b, off, len);
  }

  /**
   * A value of the telemetry topic in either form, binary or JSON, validated: for tools and tests
   * that read the topic (the job keeps a decoder and a parser per slot instead).
   */
  public static ParseResult parseEither(byte[] value) {
    return isBinary(value)
        ? new Decoder(TelemetryParser.Limits.DEFAULT).decode(value)
        : TelemetryParser.DEFAULT.parse(value);
  }

  /** One record, encoded (a fresh encoder: use an {@link Encoder} for many records). */
  public static byte[] encode(TelemetryRecord r) {
    return new Encoder().encode(r);
  }

  /**
   * The run a binary record names, without decoding the rest; null when unreadable. Consistent with
   * {@link Decoder#decode}: the run is the record's only one.
   */
  public static String peekRun(byte[] b) {
    if (!isBinary(b) || b.length < 4 || b[1] != VERSION) {
      return null;
    }
    try {
      Reader r = new Reader(b, 3);
      int length = r.length(b.length);
      return r.string(length, RUNS);
    } catch (Malformed e) {
      return null;
    }
  }

  /**
   * Writes records; keeps its buffer and the names blocks of the last few shapes it wrote (found
   * again by the identity of the record's names array, which the parser shares between records of
   * one shape). Not thread-safe: one per producing thread.
   */
  public static final class Encoder {
    private byte[] buf = new byte[1024];
    private int pos;

    /** Names arrays seen recently and their encoded blocks; direct-mapped by identity. */
    private final String[][] shapeNames = new String[8][];

    private final byte[][] shapeBlocks = new byte[8][];

    public byte[] encode(TelemetryRecord r) {
      pos = 0;
      int flags =
          (r.timeMs() >= 0 ? F_TIME : 0)
              | (r.task() != null ? F_TASK : 0)
              | (r.event() != null ? F_EVENT : 0)
              | (r.tags().size() > 0 ? F_TAGS : 0)
              | (r.logits() != null ? F_LOGITS : 0);
      ensure(3);
      buf[pos++] = MAGIC;
      buf[pos++] = VERSION;
      buf[pos++] = (byte) flags;
      string(r.run());
      varlong(r.step());
      if (r.timeMs() >= 0) {
        varlong(r.timeMs());
      }
      if (r.task() != null) {
        string(r.task());
      }
      if (r.event() != null) {
        int e = indexOf(EVENTS, r.event());
        if (e < 0) {
          throw new IllegalArgumentException("not an event of FORMAT.md: " + r.event());
        }
        ensure(1);
        buf[pos++] = (byte) e;
      }
      Metrics m = r.metrics();
      int n = m.size();
      varlong(n);
      if (n > 0) {
        byte[] block = namesBlock(m.names());
        varlong(block.length);
        ensure(block.length + 1 + (n + 7) / 8 + 8 * n);
        System.arraycopy(block, 0, buf, pos, block.length);
        pos += block.length;
        values(m.values());
      }
      if (r.tags().size() > 0) {
        Tags t = r.tags();
        varlong(t.size());
        for (int i = 0; i < t.size(); i++) {
          string(t.names()[i]);
          string(t.values()[i]);
        }
      }
      if (r.logits() != null) {
        LogitsSample s = r.logits();
        int d = indexOf(DTYPES, s.dtype());
        if (d < 0) {
          throw new IllegalArgumentException("not a dtype of FORMAT.md: " + s.dtype());
        }
        ensure(1);
        buf[pos++] = (byte) d;
        varlong(s.size());
        for (int i = 0; i < s.size(); i++) {
          double[] row = s.rows()[i];
          varlong(s.labels()[i]);
          varlong(row.length);
          boolean narrow = true;
          for (int k = 0; k < row.length && narrow; k++) {
            narrow =
                Double.doubleToRawLongBits((float) row[k]) == Double.doubleToRawLongBits(row[k]);
          }
          ensure(1 + row.length * 8);
          buf[pos++] = (byte) (narrow ? 4 : 8);
          for (double x : row) {
            if (narrow) {
              INTS.set(buf, pos, Float.floatToRawIntBits((float) x));
              pos += 4;
            } else {
              LONGS.set(buf, pos, Double.doubleToRawLongBits(x));
              pos += 8;
            }
          }
        }
      }
      return Arrays.copyOf(buf, pos);
    }

    /**
     * The values: 4 bytes for each that a float32 holds exactly (what tensors on the device give,
     * 81% of the public traces' values), 8 for the rest, with a bitmap of which is which; or all 8
     * bytes without a bitmap when no value fits in 4.
     */
    private void values(double[] v) {
      int n = v.length;
      int mode = pos++;
      int bitmap = pos;
      int narrow = 0;
      Arrays.fill(buf, bitmap, bitmap + (n + 7) / 8, (byte) 0);
      pos += (n + 7) / 8;
      for (int i = 0; i < n; i++) {
        float f = (float) v[i];
        if (Double.doubleToRawLongBits(f) == Double.doubleToRawLongBits(v[i])) {
          buf[bitmap + (i >>> 3)] |= (byte) (1 << (i & 7));
          INTS.set(buf, pos, Float.floatToRawIntBits(f));
          pos += 4;
          narrow++;
        } else {
          LONGS.set(buf, pos, Double.doubleToRawLongBits(v[i]));
          pos += 8;
        }
      }
      if (narrow > 0) {
        buf[mode] = 4;
        return;
      }
      buf[mode] = 8; // no value fits in 4 bytes: drop the bitmap
      System.arraycopy(buf, bitmap + (n + 7) / 8, buf, bitmap, 8 * n);
      pos = bitmap + 8 * n;
    }

    private byte[] namesBlock(String[] names) {
      int slot = System.identityHashCode(names) & (shapeNames.length - 1);
      if (shapeNames[slot] == names) {
        return shapeBlocks[slot];
      }
      for (int i = 0; i < shapeNames.length; i++) {
        // an equal array of other identity (a producer that copies its names per record): the
        // strings are mostly the same instances, so this is about a word compare per name
        if (shapeNames[i] != null && Arrays.equals(shapeNames[i], names)) {
          return shapeBlocks[i];
        }
      }
      int start = pos;
      byte[] previous = new byte[0];
      for (String name : names) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        int shared = Arrays.mismatch(previous, b);
        if (shared < 0) {
          shared = b.length; // equal names: the decoder rejects the duplicate
        }
        shared = Math.min(shared, Math.min(previous.length, b.length));
        varlong(shared);
        varlong(b.length - shared);
        ensure(b.length - shared);
        System.arraycopy(b, shared, buf, pos, b.length - shared);
        pos += b.length - shared;
        previous = b;
      }
      byte[] block = Arrays.copyOfRange(buf, start, pos);
      pos = start;
      shapeNames[slot] = names;
      shapeBlocks[slot] = block;
      return block;
    }

    private void string(String s) {
      int n = s.length();
      boolean ascii = true;
      for (int i = 0; i < n && ascii; i++) {
        ascii = s.charAt(i) < 0x80;
      }
      if (ascii) {
        varlong(n);
        ensure(n);
        s.getBytes(0, n, buf, pos); // ASCII: the low byte of each char is the byte
        pos += n;
      } else {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        varlong(b.length);
        ensure(b.length);
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
      }
    }

    private void varlong(long v) {
      ensure(10);
      while ((v & ~0x7FL) != 0) {
        buf[pos++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      buf[pos++] = (byte) v;
    }

    private void ensure(int more) {
      if (pos + more > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
      }
    }
  }

  private static int indexOf(String[] values, String v) {
    for (int i = 0; i < values.length; i++) {
      if (Objects.equals(values[i], v)) {
        return i;
      }
    }
    return -1;
  }

  /** Thrown inside the decoder for a defect; preallocated-free but carries the reason. */
  private static final class Malformed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Malformed(String reason) {
      super(reason, null, false, false);
    }
  }

  /** A cursor over one record's bytes, every read bounds-checked. */
  private static final class Reader {
    final byte[] b;
    int pos;

    Reader(byte[] b, int pos) {
      this.b = b;
      this.pos = pos;
    }

    long varlong(String what) {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= b.length) {
          throw new Malformed("truncated " + what);
        }
        byte x = b[pos++];
        v |= (long) (x & 0x7F) << shift;
        if (x >= 0) {
          if (shift == 63 && (x & 0x7E) != 0) {
            break; // overflow
          }
          return v;
        }
      }
      throw new Malformed("varint of " + what + " too long");
    }

    /** A byte length that fits what is left of the record. */
    int length(int max) {
      long n = varlong("a length");
      if (n > max || n > b.length - pos) {
        throw new Malformed("length " + n + " beyond the record");
      }
      return (int) n;
    }

    int byteAt(String what) {
      if (pos >= b.length) {
        throw new Malformed("truncated " + what);
      }
      return b[pos++] & 0xff;
    }

    /** The string of the next {@code length} bytes; {@code cache} for ASCII ones (or null). */
    String string(int length, StringCache cache) {
      int start = pos;
      pos += length;
      boolean ascii = true;
      for (int i = start; i < pos; i++) {
        if (b[i] < 0) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        return cache != null && length <= StringCache.MAX_LENGTH
            ? cache.get(b, start, length)
            : new String(b, start, length, StandardCharsets.ISO_8859_1);
      }
      return utf8(b, start, length);
    }
  }

  private static String utf8(byte[] b, int off, int len) {
    CharsetDecoder d = StandardCharsets.UTF_8.newDecoder(); // reports malformed input
    try {
      return d.decode(ByteBuffer.wrap(b, off, len)).toString();
    } catch (CharacterCodingException e) {
      throw new Malformed("invalid UTF-8 in a string");
    }
  }

  /**
   * Reads binary records back into records, validated as {@link TelemetryParser} validates JSON,
   * within its limits. Keeps the metric-name shapes it has seen and caches of run and tag strings:
   * one per operator slot, not thread-safe.
   */
  public static final class Decoder {

    private final TelemetryParser.Limits limits;
    private final StringCache strings = new StringCache(4096, false);

    /** Names blocks seen and their validated, interned names; round-robin replacement. */
    private final byte[][] blocks = new byte[8][];

    private final String[][] names = new String[8][];
    private int lastShape;
    private int nextShape;

    public Decoder(TelemetryParser.Limits limits) {
      this.limits = limits;
    }

    /** The record, or the reason the bytes are not a valid binary record. Never throws. */
    public ParseResult decode(byte[] b) {
      if (b.length > limits.maxBytes()) {
        return new ParseResult.Rejected(
            "record of " + b.length + " bytes exceeds the limit of " + limits.maxBytes(), null);
      }
      Fields f = new Fields();
      try {
        return new ParseResult.Parsed(read(b, f));
      } catch (Malformed e) {
        return new ParseResult.Rejected("binary record: " + e.getMessage(), f.run);
      } catch (RuntimeException e) { // should a check above ever miss, no exception escapes
        return new ParseResult.Rejected("binary record: unreadable (" + e + ")", f.run);
      }
    }

    private static final class Fields {
      String run;
    }

    private TelemetryRecord read(byte[] b, Fields f) {
      if (!isBinary(b) || b.length < 3) {
        throw new Malformed("missing magic byte and version");
      }
      if (b[1] != VERSION) {
        throw new Malformed("unsupported version " + (b[1] & 0xff) + " (this job reads 1)");
      }
      int flags = b[2] & 0xff;
      if ((flags & ~(F_TIME | F_TASK | F_EVENT | F_TAGS | F_LOGITS)) != 0) {
        throw new Malformed("unknown flags 0x" + Integer.toHexString(flags));
      }
      Reader r = new Reader(b, 3);
      String run = r.string(r.length(4 * limits.maxNameLength()), strings);
      if (run.isBlank()) {
        throw new Malformed("field 'run': expected a non-empty string");
      }
      check(TelemetryParser.identifier("run", run, limits.maxNameLength()));
      f.run = run;
      long step = r.varlong("step");
      if (step < 0 || step > limits.maxStep()) {
        throw new Malformed("field 'step': out of range");
      }
      long timeMs = -1;
      if ((flags & F_TIME) != 0) {
        timeMs = r.varlong("time_ms");
        if (timeMs < 0 || timeMs > limits.maxStep()) {
          throw new Malformed("field 'time_ms': out of range");
        }
      }
      String task = null;
      if ((flags & F_TASK) != 0) {
        task = r.string(r.length(4 * limits.maxNameLength()), strings);
        if (task.isEmpty()) {
          throw new Malformed("field 'task': expected a non-empty string");
        }
        check(TelemetryParser.identifier("task", task, limits.maxNameLength()));
      }
      String event = null;
      if ((flags & F_EVENT) != 0) {
        int e = r.byteAt("event");
        if (e >= EVENTS.length) {
          throw new Malformed("field 'event': unknown code " + e);
        }
        event = EVENTS[e];
        if (e == 2 && task == null) {
          throw new Malformed("field 'event': 'task_start' requires the field 'task'");
        }
      }
      Metrics metrics = metrics(r);
      Tags tags = (flags & F_TAGS) != 0 ? tags(r) : Tags.EMPTY;
      LogitsSample logits = (flags & F_LOGITS) != 0 ? logits(r) : null;
      if (r.pos != b.length) {
        throw new Malformed((b.length - r.pos) + " bytes after the record");
      }
      return new TelemetryRecord(run, step, timeMs, task, event, metrics, tags, logits);
    }

    private Metrics metrics(Reader r) {
      long n = r.varlong("metric count");
      if (n == 0) {
        return Metrics.EMPTY;
      }
      if (n > limits.maxMetrics()) {
        throw new Malformed("field 'metrics': more than " + limits.maxMetrics() + " metrics");
      }
      int count = (int) n;
      int blockLength = r.length(Integer.MAX_VALUE);
      int start = r.pos;
      r.pos += blockLength;
      String[] shape = shape(r.b, start, blockLength, count);
      int mode = r.byteAt("metric values");
      double[] values = new double[count];
      byte[] b = r.b;
      if (mode == 8) {
        if ((long) count * 8 > b.length - r.pos) {
          throw new Malformed("truncated metric values");
        }
        int p = r.pos;
        for (int i = 0; i < count; i++, p += 8) {
          values[i] = Double.longBitsToDouble((long) LONGS.get(b, p));
        }
        r.pos = p;
      } else if (mode == 4) {
        int bitmap = r.pos;
        int bitmapLength = (count + 7) / 8;
        if (bitmapLength > b.length - bitmap) {
          throw new Malformed("truncated metric values");
        }
        int narrow = 0;
        for (int i = 0; i < bitmapLength; i++) {
          narrow += Integer.bitCount(b[bitmap + i] & 0xff);
        }
        int p = bitmap + bitmapLength;
        if ((count & 7) != 0 && (b[p - 1] & 0xff) >>> (count & 7) != 0) {
          throw new Malformed("metric values: bits past the last value");
        }
        if (4L * narrow + 8L * (count - narrow) > b.length - p) {
          throw new Malformed("truncated metric values");
        }
        for (int i = 0; i < count; i++) {
          if ((b[bitmap + (i >>> 3)] & (1 << (i & 7))) != 0) {
            values[i] = Float.intBitsToFloat((int) INTS.get(b, p));
            p += 4;
          } else {
            values[i] = Double.longBitsToDouble((long) LONGS.get(b, p));
            p += 8;
          }
        }
        r.pos = p;
      } else {
        throw new Malformed("metric values: unknown width " + mode);
      }
      return new Metrics(shape, values);
    }

    /** The validated names of a names block, from a known shape when its bytes are equal. */
    private String[] shape(byte[] b, int start, int length, int count) {
      int s = lastShape;
      for (int k = 0; k < blocks.length; k++, s = (s + 1) & (blocks.length - 1)) {
        byte[] known = blocks[s];
        if (known != null
            && known.length == length
            && names[s].length == count
            && Arrays.equals(known, 0, length, b, start, start + length)) {
          if (lastShape != s) {
            lastShape = s;
          }
          return names[s];
        }
      }
      String[] decoded = decodeNames(b, start, length, count);
      s = nextShape;
      nextShape = (s + 1) & (blocks.length - 1);
      blocks[s] = Arrays.copyOfRange(b, start, start + length);
      names[s] = decoded;
      lastShape = s;
      return decoded;
    }

    private String[] decodeNames(byte[] b, int start, int length, int count) {
      Reader r = new Reader(Arrays.copyOfRange(b, start, start + length), 0);
      String[] out = new String[count];
      byte[] previous = new byte[0];
      for (int i = 0; i < count; i++) {
        long shared = r.varlong("a metric name");
        long suffix = r.varlong("a metric name");
        if (shared > previous.length || suffix > r.b.length - r.pos) {
          throw new Malformed("field 'metrics': malformed names block");
        }
        byte[] name = Arrays.copyOf(previous, (int) (shared + suffix));
        System.arraycopy(r.b, r.pos, name, (int) shared, (int) suffix);
        r.pos += (int) suffix;
        if (name.length == 0) {
          throw new Malformed("field 'metrics': metric names must be non-empty");
        }
        String s = new Reader(name, 0).string(name.length, null).intern();
        check(TelemetryParser.identifier("metrics." + s, s, limits.maxNameLength()));
        out[i] = s;
        previous = name;
      }
      if (r.pos != r.b.length) {
        throw new Malformed("field 'metrics': malformed names block");
      }
      NameIndex index = NameIndex.build(out);
      if (index == null) {
        throw new Malformed("field 'metrics': duplicate metric name");
      }
      if (count >= NameIndex.MIN_NAMES) {
        NameIndex.remember(index);
      }
      return out;
    }

    private Tags tags(Reader r) {
      long n = r.varlong("tag count");
      if (n > limits.maxTags()) {
        throw new Malformed("field 'tags': more than " + limits.maxTags() + " tags");
      }
      String[] tn = new String[(int) n];
      String[] tv = new String[(int) n];
      for (int i = 0; i < n; i++) {
        String name = r.string(r.length(4 * limits.maxNameLength()), strings);
        if (name.isEmpty()) {
          throw new Malformed("field 'tags': tag names must be non-empty");
        }
        check(TelemetryParser.identifier("tags." + name, name, limits.maxNameLength()));
        for (int k = 0; k < i; k++) {
          if (tn[k].equals(name)) {
            throw new Malformed("field 'tags': duplicate tag '" + name + "'");
          }
        }
        String value = r.string(r.length(4 * limits.maxTagValueLength()), strings);
        check(TelemetryParser.identifier("tags." + name, value, limits.maxTagValueLength(), false));
        tn[i] = name;
        tv[i] = value;
      }
      return new Tags(tn, tv);
    }

    private LogitsSample logits(Reader r) {
      int d = r.byteAt("logits dtype");
      if (d >= DTYPES.length) {
        throw new Malformed("field 'logits.dtype': unknown code " + d);
      }
      long rows = r.varlong("logits rows");
      if (rows > limits.maxLogitRows()) {
        throw new Malformed("field 'logits.rows': more than " + limits.maxLogitRows() + " rows");
      }
      int[] labels = new int[(int) rows];
      double[][] values = new double[(int) rows][];
      for (int i = 0; i < rows; i++) {
        long label = r.varlong("a label");
        long columns = r.varlong("a row length");
        if (columns == 0 || columns > limits.maxLogitColumns()) {
          throw new Malformed("field 'logits.rows[" + i + "]': bad length " + columns);
        }
        if (label >= columns) {
          throw new Malformed("field 'logits.labels[" + i + "]': label out of range");
        }
        int width = r.byteAt("a row width");
        if ((width != 4 && width != 8) || columns * width > r.b.length - r.pos) {
          throw new Malformed("field 'logits.rows[" + i + "]': truncated");
        }
        double[] row = new double[(int) columns];
        for (int k = 0; k < row.length; k++) {
          if (width == 4) {
            row[k] = Float.intBitsToFloat((int) INTS.get(r.b, r.pos));
            r.pos += 4;
          } else {
            row[k] = Double.longBitsToDouble((long) LONGS.get(r.b, r.pos));
            r.pos += 8;
          }
        }
        labels[i] = (int) label;
        values[i] = row;
      }
      return new LogitsSample(DTYPES[d], labels, values);
    }

    private static void check(String error) {
      if (error != null) {
        throw new Malformed(error);
      }
    }
  }
}
