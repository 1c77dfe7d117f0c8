package dev.trainwatch.alerts.nflog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.model.Matcher;
import dev.trainwatch.alerts.silence.Silence;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The local append-only journal of the alerts service: alert state, the notification log and API
 * silences, one JSON object per line. On open it replays the file into a {@link Snapshot} (a torn
 * last line from a crash is skipped) and rewrites it compacted, atomically.
 *
 * <p>Guarantee: {@link #appendSent} and {@link #appendSilence} are fsynced before they return;
 * other appends are fsynced by {@link #sync()}, which the service calls before committing Kafka
 * offsets. Writes go through a {@link FileOutputStream}, not a {@code FileChannel}: interrupting a
 * delivery thread (shutdown) would close an interruptible channel for every other writer. The fsync
 * runs outside the lock so concurrent deliveries share one disk flush.
 */
public final class Journal implements AutoCloseable {

  /**
   * Replayed state: live alerts, tombstones (resolved detector identity -> last step), log,
   * silences.
   */
  public record Snapshot(
      Map<String, Alert> alerts,
      Map<String, Long> tombstones,
      Map<String, NflogEntry> nflog,
      Map<String, Silence> silences) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path file;
  private static final long COMPACT_MIN_LINES = 10_000;
  private FileOutputStream out; // replaced by compact(), guarded by this
  private long appended;
  private final Snapshot restored;

  private Journal(Path file, FileOutputStream out, Snapshot restored) {
    this.file = file;
    this.out = out;
    this.restored = restored;
  }

  public static Journal open(Path dir) {
    try {
      Files.createDirectories(dir);
      Path file = dir.resolve("journal.jsonl");
      Snapshot s = replay(file);
      writeSnapshot(file, s);
      return new Journal(file, new FileOutputStream(file.toFile(), true), s);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the journal in " + dir, e);
    }
  }

  /** Writes the snapshot to a temporary file, fsyncs it, and renames it over {@code file}. */
  private static void writeSnapshot(Path file, Snapshot s) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (FileChannel c =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      for (Alert a : s.alerts().values()) {
        write(c, alertLine(a));
      }
      for (Map.Entry<String, Long> t : s.tombstones().entrySet()) {
        write(c, goneLine(t.getKey(), t.getKey(), t.getValue()));
      }
      for (NflogEntry e : s.nflog().values()) {
        write(c, sentLine(e));
      }
      for (Silence sil : s.silences().values()) {
        write(c, silenceLine(sil));
      }
      c.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** True once the file holds many more lines than live items: time to {@link #compact}. */
  public boolean needsCompaction(int liveItems) {
    return appended > Math.max(COMPACT_MIN_LINES, 4L * liveItems);
  }

  /**
   * Rewrites the journal from {@code current}, taken while appends are blocked. Writers update
   * their in-memory state before appending, so an item is either in the snapshot or appended to the
   * new file afterwards (possibly both: replay keeps the last line, so that is harmless).
   */
  public synchronized void compact(Supplier<Snapshot> current) {
    try {
      writeSnapshot(file, current.get());
      out.close();
      out = new FileOutputStream(file.toFile(), true);
      appended = 0;
    } catch (IOException e) {
      throw new UncheckedIOException("journal compaction failed: " + file, e);
    }
  }

  public Snapshot restored() {
    return restored;
  }

  public Path file() {
    return file;
  }

  public void appendAlert(Alert a) {
    append(alertLine(a), false);
  }

  /**
   * An alert forgotten; {@code source} null when it was superseded (no tombstone for its detector).
   */
  public void appendGone(String fingerprint, String source, long step) {
    append(goneLine(fingerprint, source, step), false);
  }

  public void appendSent(NflogEntry e) {
    append(sentLine(e), true);
  }

  public void appendSilence(Silence s) {
    append(silenceLine(s), true);
  }

  public void sync() {
    FileOutputStream current;
    synchronized (this) {
      current = out;
    }
    try {
      current.getFD().sync();
    } catch (IOException e) {
      synchronized (this) {
        if (current != out) {
          return; // compacted meanwhile: the new file was fsynced with everything in it
        }
      }
      throw new UncheckedIOException("journal sync failed: " + file, e);
    }
  }

  private void append(ObjectNode line, boolean fsync) {
    byte[] b = (line.toString() + "\n").getBytes(StandardCharsets.UTF_8);
    try {
      synchronized (this) {
        out.write(b); // one write call per line: a crash tears at most the last line
        appended++;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("journal write failed: " + file, e);
    }
    if (fsync) {
      sync();
    }
  }

  @Override
  public synchronized void close() throws IOException {
    try {
      out.getFD().sync();
    } catch (IOException ignored) {
      // already closed
    }
    out.close();
  }

  private static void write(FileChannel c, ObjectNode line) throws IOException {
    byte[] b = (line.toString() + "\n").getBytes(StandardCharsets.UTF_8);
    ByteBuffer buf = ByteBuffer.wrap(b);
    while (buf.hasRemaining()) {
      c.write(buf);
    }
  }

  private static ObjectNode alertLine(Alert a) {
    ObjectNode n = JSON.createObjectNode().put("k", "alert");
    n.set("v", JSON.valueToTree(a));
    return n;
  }

  private static ObjectNode goneLine(String fp, String source, long step) {
    ObjectNode n = JSON.createObjectNode().put("k", "gone").put("fp", fp).put("step", step);
    return source == null ? n.put("superseded", true) : n.put("src", source);
  }

  private static ObjectNode sentLine(NflogEntry e) {
    ObjectNode n = JSON.createObjectNode().put("k", "sent");
    n.set("v", JSON.valueToTree(e));
    return n;
  }

  private static ObjectNode silenceLine(Silence s) {
    ObjectNode n =
        JSON.createObjectNode()
            .put("k", "silence")
            .put("id", s.id())
            .put("startsAt", s.startsAt().toString())
            .put("endsAt", s.endsAt().toString())
            .put("createdBy", s.createdBy())
            .put("comment", s.comment());
    var ms = n.putArray("matchers");
    s.matchers().forEach(m -> ms.add(m.toString()));
    return n;
  }

  private static Snapshot replay(Path file) throws IOException {
    Map<String, Alert> alerts = new LinkedHashMap<>();
    Map<String, Long> tombstones = new LinkedHashMap<>();
    Map<String, NflogEntry> nflog = new LinkedHashMap<>();
    Map<String, Silence> silences = new LinkedHashMap<>();
    if (Files.exists(file)) {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        JsonNode n;
        try {
          n = JSON.readTree(line);
        } catch (IOException torn) {
          continue; // a line cut short by a crash: everything before it is intact
        }
        if (n == null) {
          continue;
        }
        switch (n.path("k").asText()) {
          case "alert" -> {
            Alert a = JSON.treeToValue(n.get("v"), Alert.class);
            alerts.put(a.fingerprint(), a);
            tombstones.remove(a.source());
          }
          case "gone" -> {
            alerts.remove(n.get("fp").asText());
            if (!n.path("superseded").asBoolean(false)) {
              // tombstones are per detector identity; older journals had no "src" (fp was it)
              tombstones.put(n.path("src").asText(n.get("fp").asText()), n.path("step").asLong());
            }
          }
          case "sent" -> {
            NflogEntry e = JSON.treeToValue(n.get("v"), NflogEntry.class);
            nflog.put(e.key(), e);
          }
          case "silence" -> silences.put(n.get("id").asText(), silence(n));
          default -> {}
        }
      }
    }
    return new Snapshot(alerts, tombstones, nflog, silences);
  }

  private static Silence silence(JsonNode n) {
    List<Matcher> ms = new ArrayList<>();
    n.get("matchers").forEach(m -> ms.add(Matcher.parse(m.asText())));
    return new Silence(
        n.get("id").asText(),
        ms,
        Instant.parse(n.get("startsAt").asText()),
        Instant.parse(n.get("endsAt").asText()),
        n.path("createdBy").asText(),
        n.path("comment").asText());
  }
}
