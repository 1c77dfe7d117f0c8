package dev.trainwatch.ingest.tail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a JSON Lines file the trainer appends to, like Kafka's connect/file source: only complete
 * lines are emitted, and after each chunk is durable (Kafka or spool) the inode and the byte offset
 * after its last line are checkpointed.
 *
 * <p>Rotation (the file is renamed and a new one created) is noticed when the path's inode changes:
 * the old file is read to its end first, then the new one from 0. If the sidecar was down across a
 * rotation, the renamed file is found among the siblings by its inode and finished first.
 * Truncation (the file shrinks below the offset) restarts at 0. Known limit: a copy-truncate
 * followed by writes past the old offset before the next poll is not seen.
 */
public final class FileTailer implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(FileTailer.class);

  private final Path file;
  private final Path checkpointFile;
  private final LineSink sink;
  private final int maxLine;
  private final long pollMs;
  private final LongConsumer oversize;
  private final ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
  private volatile boolean running = true;

  public FileTailer(
      Path file,
      Path checkpointFile,
      LineSink sink,
      int maxLine,
      long pollMs,
      LongConsumer oversize) {
    this.file = file;
    this.checkpointFile = checkpointFile;
    this.sink = sink;
    this.maxLine = maxLine;
    this.pollMs = pollMs;
    this.oversize = oversize;
  }

  @Override
  public void run() {
    try {
      resume();
      while (running) {
        Path opened = waitFor(file);
        if (opened == null) {
          return;
        }
        Checkpoint cp = Checkpoint.read(checkpointFile);
        String id = Checkpoint.fileId(file);
        long start = cp != null && cp.fileId().equals(id) ? cp.offset() : 0;
        follow(file, id, start);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      LOG.error("tail of {} stopped: {}", file, e.toString());
    }
  }

  /** If the checkpointed file was rotated away while we were down, finish it first. */
  private void resume() throws IOException, InterruptedException {
    Checkpoint cp = Checkpoint.read(checkpointFile);
    if (cp == null || (Files.exists(file) && Checkpoint.fileId(file).equals(cp.fileId()))) {
      return;
    }
    Path dir = file.toAbsolutePath().getParent();
    try (var siblings = Files.list(dir)) {
      for (Path p : (Iterable<Path>) siblings::iterator) {
        if (!p.equals(file.toAbsolutePath())
            && Files.isRegularFile(p)
            && cp.fileId().equals(Checkpoint.fileId(p))) {
          LOG.info("finishing rotated file {} from offset {}", p, cp.offset());
          readToEnd(p, cp.fileId(), cp.offset());
        }
      }
    }
  }

  /** Follows one file until it is rotated away (returns) or the tailer stops. */
  private void follow(Path p, String id, long start) throws IOException, InterruptedException {
    LineChunker chunker = new LineChunker(maxLine);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      long pos = start > ch.size() ? 0 : start;
      while (running) {
        long before = pos;
        pos = readAvailable(ch, id, pos, chunker);
        if (pos > before) {
          continue;
        }
        if (!Files.exists(p) || !Checkpoint.fileId(p).equals(id)) {
          pos = readAvailable(ch, id, pos, chunker); // last bytes written before the rename
          emitRemainder(chunker, id, pos);
          return;
        }
        if (ch.size() < pos) {
          LOG.warn("{} was truncated; reading from the start", p);
          pos = 0;
          chunker.reset();
          new Checkpoint(id, 0).write(checkpointFile);
          continue;
        }
        Thread.sleep(pollMs);
      }
    }
  }

  private void readToEnd(Path p, String id, long start) throws IOException, InterruptedException {
    LineChunker chunker = new LineChunker(maxLine);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      long pos = readAvailable(ch, id, Math.min(start, ch.size()), chunker);
      emitRemainder(chunker, id, pos);
    }
  }

  /**
   * Reads until no more bytes, emitting complete lines chunk by chunk; returns the read position.
   */
  private long readAvailable(FileChannel ch, String id, long pos, LineChunker chunker)
      throws IOException, InterruptedException {
    int n;
    while (running && (n = ch.read(buf.clear(), pos)) > 0) {
      pos += n;
      long skippedBefore = chunker.oversizeLines();
      List<byte[]> lines = chunker.feed(buf.array(), n);
      if (chunker.oversizeLines() > skippedBefore) {
        oversize.accept(chunker.oversizeLines() - skippedBefore);
      }
      if (!lines.isEmpty()) {
        sink.submit(lines);
      }
      new Checkpoint(id, chunker.skipping() ? pos : pos - chunker.pending()).write(checkpointFile);
    }
    return pos;
  }

  /** A rotated file will not grow any more: its unterminated last line is complete. */
  private void emitRemainder(LineChunker chunker, String id, long pos) throws InterruptedException {
    if (chunker.pending() > 0 && !chunker.skipping()) {
      sink.submit(List.of(chunker.remainder()));
    }
    chunker.reset();
  }

  private Path waitFor(Path p) throws InterruptedException {
    while (running) {
      if (Files.isRegularFile(p)) {
        return p;
      }
      Thread.sleep(pollMs);
    }
    return null;
  }

  public void stop() {
    running = false;
  }
}
