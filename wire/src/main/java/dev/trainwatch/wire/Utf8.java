package dev.trainwatch.wire;

import java.util.Locale;

/**
 * Strict UTF-8 (RFC 3629) with a specific reason for every defect. Jackson, like most decoders,
 * takes overlong forms ({@code C0 AF} for '/'), encoded surrogates ({@code ED A0 80}) and skips a
 * leading byte-order mark; each of these lets two different byte strings name the same run, or one
 * run turn into '?' once re-encoded, so records carrying them are rejected.
 */
final class Utf8 {

  private Utf8() {}

  /**
   * Null when {@code b} is strict UTF-8 without a leading BOM; else the reason, with the byte
   * offset.
   */
  static String check(byte[] b) {
    int n = b.length;
    if (n >= 3 && b[0] == (byte) 0xEF && b[1] == (byte) 0xBB && b[2] == (byte) 0xBF) {
      return "invalid encoding: a UTF-8 byte-order mark (EF BB BF) at the start; send UTF-8 without a BOM";
    }
    int i = 0;
    while (i < n) {
      int c = b[i];
      if (c >= 0) {
        i++;
        continue;
      }
      c &= 0xff;
      int length;
      int min;
      int cp;
      if (c < 0xC0) {
        return at(i, "unexpected continuation byte 0x%02X", c);
      } else if (c < 0xE0) {
        length = 2;
        min = 0x80;
        cp = c & 0x1F;
      } else if (c < 0xF0) {
        length = 3;
        min = 0x800;
        cp = c & 0x0F;
      } else if (c < 0xF8) {
        length = 4;
        min = 0x10000;
        cp = c & 0x07;
      } else {
        return at(i, "byte 0x%02X never occurs in UTF-8", c);
      }
      for (int k = 1; k < length; k++) {
        if (i + k >= n) {
          return at(i, "truncated %d-byte sequence at the end", length);
        }
        int cc = b[i + k] & 0xff;
        if ((cc & 0xC0) != 0x80) {
          return at(
              i, "truncated %d-byte sequence (byte 0x%02X is not a continuation byte)", length, cc);
        }
        cp = (cp << 6) | (cc & 0x3F);
      }
      if (cp < min) {
        return at(i, "overlong %d-byte encoding of U+%04X", length, cp);
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) {
        return at(i, "surrogate U+%04X encoded in UTF-8", cp);
      }
      if (cp > 0x10FFFF) {
        return at(i, "code point U+%X above U+10FFFF", cp);
      }
      i += length;
    }
    return null;
  }

  private static String at(int offset, String format, Object... args) {
    return "invalid UTF-8 at byte " + offset + ": " + String.format(Locale.ROOT, format, args);
  }
}
