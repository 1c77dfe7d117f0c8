package dev.trainwatch.ingest.spool;

import dev.trainwatch.ingest.pipeline.Outgoing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An append-only, segmented disk queue of Kafka records, used while Kafka is unreachable and
 * drained in order when it returns.
 *
 * <p>Each entry is {@code [int length][int crc32c][payload]}, payload = {@code [short
 * topicLen][topic][int keyLen or -1][key][value]}. Segments are files {@code
 * NNNNNNNNNNNNNNNNNNNN.spool}; the read position lives in {@code head} (segment and offset,
 * replaced atomically). On open, a torn entry at the end of the last segment (a crash mid-write) is
 * cut off. Delivery from the spool is at least once: entries are read with {@link #peek}, sent, and
 * only then released with {@link #commit}; a crash between the two sends them again. Appends are
 * forced to disk. Thread-safe (one lock).
 */
public final class Spool implements AutoCloseable {

  private static final String SUFFIX = ".spool";
  private static final int HEADER = 8;

  /** An entry read from the spool, with where the entry after it starts. */
  public record Entry(Outgoing record, long segment, long nextOffset) {}

  private final Path dir;
  private final long segmentBytes;
  private final long maxBytes;
  private final TreeMap<Long, Long> segments = new TreeMap<>(); // id -> size
  private FileChannel writer;
  private long writeSegment;
  private long headSegment;
  private long headOffset;
  private long entries;
  private boolean headWriteFailing;
  private static final Logger LOG = LoggerFactory.getLogger(Spool.class);

  public Spool(Path dir, long segmentBytes, long maxBytes) throws IOException {
    this.dir = Files.createDirectories(dir);
    this.segmentBytes = segmentBytes;
    this.maxBytes = maxBytes;
    try (var s = Files.list(dir)) {
      s.filter(p -> p.getFileName().toString().endsWith(SUFFIX))
          .forEach(
              p -> {
                String n = p.getFileName().toString();
                segments.put(Long.parseLong(n.substring(0, n.length() - SUFFIX.length())), 0L);
              });
    }
    readHead();
    segments.headMap(headSegment).keySet().forEach(id -> deleteQuietly(segmentPath(id)));
    segments.headMap(headSegment).clear();
    for (long id : segments.keySet()) {
      segments.put(id, recover(id));
    }
    writeSegment = segments.isEmpty() ? Math.max(headSegment, 0) : segments.lastKey();
    if (segments.isEmpty()) {
      headSegment = writeSegment;
      headOffset = 0;
      segments.put(writeSegment, 0L);
    }
    writer =
        FileChannel.open(
            segmentPath(writeSegment),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.APPEND);
  }

  /** Scans a segment, counts its entries past the head and truncates a torn tail. */
  private long recover(long id) throws IOException {
    Path p = segmentPath(id);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long pos = id == headSegment ? headOffset : 0;
      long good = pos;
      while (true) {
        Entry e = readAt(ch, id, pos);
        if (e == null) {
          break;
        }
        entries++;
        pos = good = e.nextOffset();
      }
      if (good < ch.size() && id == segments.lastKey()) {
        ch.truncate(good);
      }
      return Math.max(good, ch.size());
    }
  }

  /**
   * How many records of an {@link #append} are in the spool (the first {@code count}, in order),
   * and why the rest are not: null when all are.
   */
  public record Appended(int count, String error) {}

  /**
   * Appends records in order, each whole or not at all, and forces them to disk. Stops at the first
   * record that does not fit: the spool at {@code spool.max.bytes}, or a write that fails (a full
   * disk). A record whose write failed part-way is cut off again, so nothing torn stays in front of
   * later appends and a retry once space returns continues cleanly.
   */
  public synchronized Appended append(List<Outgoing> records) {
    int done = 0;
    try {
      for (Outgoing o : records) {
        if (bytes() >= maxBytes) {
          writer.force(false);
          return new Appended(
              done,
              "spool full: "
                  + bytes()
                  + " bytes in "
                  + dir
                  + " reach spool.max.bytes = "
                  + maxBytes);
        }
        if (segments.get(writeSegment) >= segmentBytes) {
          roll();
        }
        ByteBuffer b = encode(o);
        long before = segments.get(writeSegment);
        try {
          while (b.hasRemaining()) {
            writer.write(b);
          }
        } catch (IOException e) {
          writer.truncate(before);
          throw e;
        }
        segments.put(writeSegment, before + b.capacity());
        entries++;
        done++;
      }
      writer.force(false);
      return new Appended(done, null);
    } catch (IOException e) {
      return new Appended(done, "cannot write to the spool in " + dir + ": " + e.getMessage());
    }
  }

  /** Reads up to {@code max} entries from the head, in order, without releasing them. */
  public synchronized List<Entry> peek(int max) {
    return peek(max, Long.MAX_VALUE);
  }

  /**
   * As {@link #peek(int)}, stopping once the entries read hold {@code maxBytes} (at least one is
   * read): a chunk of 1000 records of 1 MB each would be a GB of heap.
   */
  public synchronized List<Entry> peek(int max, long maxBytes) {
    List<Entry> out = new ArrayList<>();
    long bytesRead = 0;
    long seg = headSegment;
    long off = headOffset;
    try {
      while (out.size() < max && seg <= writeSegment) {
        Long size = segments.get(seg);
        if (size == null || off >= size) {
          Long next = segments.higherKey(seg);
          if (next == null) {
            break;
          }
          seg = next;
          off = 0;
          continue;
        }
        try (FileChannel ch = FileChannel.open(segmentPath(seg), StandardOpenOption.READ)) {
          while (out.size() < max && bytesRead < maxBytes) {
            Entry e = readAt(ch, seg, off);
            if (e == null) {
              off = size; // unreadable rest: skip the segment rather than block forever
              break;
            }
            out.add(e);
            bytesRead += e.nextOffset() - off;
            off = e.nextOffset();
          }
          if (bytesRead >= maxBytes) {
            break;
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("spool " + dir + ": read failed", e);
    }
    return out;
  }

  /** Releases every entry up to and including {@code last}; emptied segments are deleted. */
  public synchronized void commit(List<Entry> released) {
    if (released.isEmpty()) {
      return;
    }
    Entry last = released.get(released.size() - 1);
    headSegment = last.segment();
    headOffset = last.nextOffset();
    entries -= released.size();
    for (Long id : new ArrayList<>(segments.headMap(headSegment).keySet())) {
      segments.remove(id);
      deleteQuietly(segmentPath(id));
    }
    writeHead();
  }

  public synchronized boolean isEmpty() {
    return entries == 0;
  }

  public synchronized long size() {
    return entries;
  }

  public synchronized long bytes() {
    long total = 0;
    for (var e : segments.entrySet()) {
      total += e.getValue() - (e.getKey() == headSegment ? headOffset : 0);
    }
    return total;
  }

  private void roll() throws IOException {
    writer.force(false);
    // the new segment first: if it cannot be created (a full disk), the spool stays as it was
    FileChannel next =
        FileChannel.open(
            segmentPath(writeSegment + 1),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.APPEND);
    writer.close();
    writer = next;
    writeSegment++;
    segments.put(writeSegment, 0L);
  }

  private static ByteBuffer encode(Outgoing o) {
    byte[] topic = o.topic().getBytes(StandardCharsets.UTF_8);
    byte[] key = o.key() == null ? null : o.key().getBytes(StandardCharsets.UTF_8);
    int payload = 2 + topic.length + 4 + (key == null ? 0 : key.length) + o.value().length;
    ByteBuffer b = ByteBuffer.allocate(HEADER + payload);
    b.position(HEADER);
    b.putShort((short) topic.length).put(topic).putInt(key == null ? -1 : key.length);
    if (key != null) {
      b.put(key);
    }
    b.put(o.value());
    CRC32C crc = new CRC32C();
    crc.update(b.array(), HEADER, payload);
    b.putInt(0, payload).putInt(4, (int) crc.getValue());
    return b.rewind();
  }

  /** The entry at {@code off}, or null at the end or at a torn/corrupt entry. */
  private static Entry readAt(FileChannel ch, long seg, long off) throws IOException {
    ByteBuffer h = ByteBuffer.allocate(HEADER);
    if (ch.read(h, off) < HEADER) {
      return null;
    }
    int len = h.getInt(0);
    if (len < 6 || off + HEADER + len > ch.size()) {
      return null;
    }
    ByteBuffer p = ByteBuffer.allocate(len);
    while (p.hasRemaining() && ch.read(p, off + HEADER + p.position()) > 0) {
      // keep reading
    }
    CRC32C crc = new CRC32C();
    crc.update(p.array(), 0, len);
    if ((int) crc.getValue() != h.getInt(4)) {
      return null;
    }
    p.flip();
    byte[] topic = new byte[p.getShort()];
    p.get(topic);
    int keyLen = p.getInt();
    String key = null;
    if (keyLen >= 0) {
      byte[] k = new byte[keyLen];
      p.get(k);
      key = new String(k, StandardCharsets.UTF_8);
    }
    byte[] value = new byte[p.remaining()];
    p.get(value);
    return new Entry(
        new Outgoing(new String(topic, StandardCharsets.UTF_8), key, value, null),
        seg,
        off + HEADER + len);
  }

  private void readHead() throws IOException {
    Path head = dir.resolve("head");
    if (Files.exists(head)) {
      String[] parts = Files.readString(head).trim().split(" ");
      headSegment = Long.parseLong(parts[0]);
      headOffset = Long.parseLong(parts[1]);
    } else {
      headSegment = segments.isEmpty() ? 0 : segments.firstKey();
      headOffset = 0;
    }
  }

  /**
   * Persists the read position. When it cannot (a full disk), the position stays in memory and the
   * next commit tries again: failing here would resend, and so duplicate, what was just delivered;
   * only a crash before a later successful write re-sends those records.
   */
  private void writeHead() {
    Path tmp = dir.resolve("head.tmp");
    try {
      Files.writeString(tmp, headSegment + " " + headOffset + "\n");
      try {
        Files.move(tmp, dir.resolve("head"), StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, dir.resolve("head"), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      if (!headWriteFailing) {
        LOG.warn(
            "spool {}: cannot persist the read position ({}); kept in memory until it can be written",
            dir,
            e.toString());
      }
      headWriteFailing = true;
      deleteQuietly(tmp);
      return;
    }
    if (headWriteFailing) {
      LOG.info("spool {}: read position persisted again", dir);
      headWriteFailing = false;
    }
  }

  private Path segmentPath(long id) {
    return dir.resolve(String.format("%020d%s", id, SUFFIX));
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // a leftover released segment is deleted on the next open
    }
  }

  @Override
  public synchronized void close() throws IOException {
    writer.close();
  }
}
