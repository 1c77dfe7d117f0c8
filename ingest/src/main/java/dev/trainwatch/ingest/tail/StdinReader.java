package dev.trainwatch.ingest.tail;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads JSON Lines from a stream (standard input) until its end; the last line needs no newline.
 */
public final class StdinReader implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(StdinReader.class);

  private final InputStream in;
  private final LineSink sink;
  private final LineChunker chunker;
  private final LongConsumer oversize;
  private final Runnable onEnd;

  public StdinReader(
      InputStream in, LineSink sink, int maxLine, LongConsumer oversize, Runnable onEnd) {
    this.in = in;
    this.sink = sink;
    this.chunker = new LineChunker(maxLine);
    this.oversize = oversize;
    this.onEnd = onEnd;
  }

  @Override
  public void run() {
    byte[] buf = new byte[64 * 1024];
    try {
      int n;
      while ((n = in.read(buf)) > 0) {
        long before = chunker.oversizeLines();
        List<byte[]> lines = chunker.feed(buf, n);
        if (chunker.oversizeLines() > before) {
          oversize.accept(chunker.oversizeLines() - before);
        }
        if (!lines.isEmpty()) {
          sink.submit(lines);
        }
      }
      if (chunker.pending() > 0 && !chunker.skipping()) {
        sink.submit(List.of(chunker.remainder()));
      }
    } catch (IOException e) {
      LOG.error("stdin read failed: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      onEnd.run();
    }
  }
}
