package dev.trainwatch.wire;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns short ASCII byte ranges into Strings, returning the same instance for the same bytes.
 *
 * <p>Why: every record repeats the same ~20 metric names and one of a few thousand run names.
 * Decoding them afresh costs an allocation each, and a hash computation wherever they are used as
 * keys; a cached instance carries its hash already. Metric names are also {@link String#intern
 * interned}, so a lookup against a string literal ({@code "loss"}) can succeed on identity alone
 * (see {@link Metrics#indexOf}).
 *
 * <p>Direct-mapped and lossy: a colliding name replaces the slot's entry, so memory stays fixed
 * however many names pass. The slot comes from the length and the first and last eight bytes (two
 * word reads, whatever the length); for up to 16 bytes those two words are the whole string, so a
 * hit is confirmed by comparing them, longer ones by a full comparison. Thread-safe without locks:
 * slots hold immutable entries, and a racing reader at worst misses and decodes again.
 */
final class StringCache {

  /** Longer strings are decoded without caching: they are rare, and comparing them costs more. */
  static final int MAX_LENGTH = 64;

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  /**
   * A cached string with its bytes. {@code first}/{@code last}: the first and last eight bytes (for
   * shorter strings, all bytes packed), which are all of them up to 16; {@code bytes} holds longer
   * ones in full.
   */
  record Entry(int length, long first, long last, byte[] bytes, String string) {

    /** Whether {@code b} holds exactly this string at {@code off}, followed by a closing quote. */
    boolean isQuotedAt(byte[] b, int off) {
      int end = off + length;
      return end < b.length
          && b[end] == '"'
          && is(b, off, length, firstWord(b, off, length), lastWord(b, off, length));
    }

    /** Whether the {@code len} bytes at {@code off}, whose words are given, are this string. */
    private boolean is(byte[] b, int off, int len, long first, long last) {
      return length == len
          && this.first == first
          && this.last == last
          && (len <= 16 || Arrays.equals(bytes, 0, len, b, off, off + len));
    }
  }

  private final Entry[] slots;
  private final int mask;
  private final boolean intern;

  StringCache(int slotsPowerOfTwo, boolean intern) {
    if (Integer.bitCount(slotsPowerOfTwo) != 1) {
      throw new IllegalArgumentException("slots must be a power of two, got " + slotsPowerOfTwo);
    }
    this.slots = new Entry[slotsPowerOfTwo];
    this.mask = slotsPowerOfTwo - 1;
    this.intern = intern;
  }

  /** The string of {@code len} ASCII bytes at {@code off}; the caller guarantees they are ASCII. */
  String get(byte[] b, int off, int len) {
    return len > MAX_LENGTH
        ? new String(b, off, len, StandardCharsets.ISO_8859_1)
        : entry(b, off, len).string;
  }

  /** The cache entry of {@code len <= }{@value #MAX_LENGTH} ASCII bytes at {@code off}. */
  Entry entry(byte[] b, int off, int len) {
    long first = firstWord(b, off, len);
    long last = lastWord(b, off, len);
    // murmur3's finaliser: every input bit reaches the low bits the mask keeps
    long h = (first * 0x9E3779B97F4A7C15L + last) ^ len;
    h ^= h >>> 33;
    h *= 0xFF51AFD7ED558CCDL;
    h ^= h >>> 33;
    int slot = (int) h & mask;
    Entry e = slots[slot];
    if (e != null && e.is(b, off, len, first, last)) {
      return e;
    }
    String s = new String(b, off, len, StandardCharsets.ISO_8859_1);
    if (intern) {
      s = s.intern();
    }
    e = new Entry(len, first, last, len <= 16 ? null : Arrays.copyOfRange(b, off, off + len), s);
    slots[slot] = e;
    return e;
  }

  /**
   * An entry for an ASCII string of any length, outside any cache (shapes of metric names keep
   * them).
   */
  static Entry entryOf(String ascii) {
    byte[] b = ascii.getBytes(StandardCharsets.ISO_8859_1);
    int len = b.length;
    return new Entry(len, firstWord(b, 0, len), lastWord(b, 0, len), len <= 16 ? null : b, ascii);
  }

  /** The first eight bytes as a word; shorter strings packed whole. */
  private static long firstWord(byte[] b, int off, int len) {
    if (len >= 8) {
      return (long) LONGS.get(b, off);
    }
    long v = 0;
    for (int i = off; i < off + len; i++) {
      v = (v << 8) | (b[i] & 0xff);
    }
    return v;
  }

  /** The last eight bytes as a word; 0 for strings shorter than that, which fit in the first. */
  private static long lastWord(byte[] b, int off, int len) {
    return len >= 8 ? (long) LONGS.get(b, off + len - 8) : 0;
  }
}
