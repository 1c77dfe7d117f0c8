package dev.trainwatch.ingest.tail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts bytes into complete lines. Bytes after the last newline are kept until their newline
 * arrives; a line longer than the limit is cut off and reported once as an oversize line (its bytes
 * are skipped up to the next newline) so one runaway line cannot exhaust memory.
 */
final class LineChunker {

  private final int maxLine;
  private byte[] carry = new byte[0];
  private boolean skipping;
  private long oversize;

  LineChunker(int maxLine) {
    this.maxLine = maxLine;
  }

  /**
   * Complete lines of {@code buf[0..n)} joined to the carry; {@code consumed} grows by their bytes.
   */
  List<byte[]> feed(byte[] buf, int n) {
    List<byte[]> out = new ArrayList<>();
    int from = 0;
    for (int i = 0; i < n; i++) {
      if (buf[i] != '\n') {
        continue;
      }
      if (skipping) {
        skipping = false;
      } else {
        byte[] line = join(carry, buf, from, i);
        if (line.length > maxLine) {
          oversize++;
        } else if (line.length > 0 && !isBlank(line)) {
          out.add(line);
        }
      }
      carry = new byte[0];
      from = i + 1;
    }
    if (!skipping) {
      carry = join(carry, buf, from, n);
      if (carry.length > maxLine) {
        skipping = true;
        oversize++;
        carry = new byte[0];
      }
    }
    return out;
  }

  /**
   * The bytes after the last newline (an incomplete line), e.g. to emit when a rotated file ends.
   */
  byte[] remainder() {
    return carry;
  }

  int pending() {
    return carry.length;
  }

  boolean skipping() {
    return skipping;
  }

  long oversizeLines() {
    return oversize;
  }

  void reset() {
    carry = new byte[0];
    skipping = false;
  }

  private static byte[] join(byte[] a, byte[] b, int from, int to) {
    int end = to > from && b[to - 1] == '\r' ? to - 1 : to;
    byte[] r = Arrays.copyOf(a, a.length + Math.max(0, end - from));
    System.arraycopy(b, from, r, a.length, Math.max(0, end - from));
    return r;
  }

  private static boolean isBlank(byte[] b) {
    for (byte x : b) {
      if (!Character.isWhitespace(x)) {
        return false;
      }
    }
    return true;
  }
}
