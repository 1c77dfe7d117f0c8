package dev.trainwatch.jobs.storage;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.SinkWriter;

/**
 * Batches points and hands full batches to one sender thread through a bounded queue: while {@code
 * maxInFlightBatches} batches wait, {@link #write} blocks, which back-pressures the job instead of
 * growing memory. {@link #flush} (called by Flink on every checkpoint and at end of input) sends
 * the partial batch and waits until everything queued is stored, so a completed checkpoint implies
 * the points before it are in InfluxDB (at-least-once); points are idempotent ({@link PointTime}),
 * so the replay after a restore overwrites them, which makes the stored result effectively
 * exactly-once. A partial batch also goes out after {@code flushIntervalMs} of processing time, so
 * dashboards stay live between checkpoints.
 */
public final class InfluxSinkWriter implements SinkWriter<InfluxLine> {

  private static final List<String> STOP = List.of();

  private final int batchSize;
  private final long flushIntervalMs;
  private final ProcessingTimeService timers;
  private final RetryingSender sender;
  private final BatchWriter batchWriter;
  private final BlockingQueue<List<String>> queue;
  private final Thread thread;
  private final Object lock = new Object();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final AtomicLong pointsWritten = new AtomicLong();
  private int pending;
  private List<String> batch;

  /** {@code timers} may be null (no interval flush; tests drive {@link #flush} themselves). */
  public InfluxSinkWriter(
      BatchWriter batchWriter,
      RetryingSender sender,
      int batchSize,
      int maxInFlightBatches,
      long flushIntervalMs,
      ProcessingTimeService timers) {
    this.batchWriter = batchWriter;
    this.sender = sender;
    this.batchSize = batchSize;
    this.flushIntervalMs = flushIntervalMs;
    this.timers = timers;
    this.queue = new ArrayBlockingQueue<>(maxInFlightBatches);
    this.batch = new ArrayList<>(batchSize);
    this.thread = new Thread(this::sendLoop, "influx-sender");
    thread.setDaemon(true);
    thread.start();
    scheduleIntervalFlush();
  }

  @Override
  public void write(InfluxLine element, Context context) throws IOException, InterruptedException {
    checkFailure();
    batch.add(element.line());
    if (batch.size() >= batchSize) {
      enqueue();
    }
  }

  @Override
  public void flush(boolean endOfInput) throws IOException, InterruptedException {
    if (!batch.isEmpty()) {
      enqueue();
    }
    synchronized (lock) {
      while (pending > 0 && failure.get() == null) {
        if (!thread.isAlive()) {
          throw new IOException(
              "InfluxDB sender thread stopped with " + pending + " batches unsent");
        }
        lock.wait(100);
      }
    }
    checkFailure();
  }

  private void enqueue() throws IOException, InterruptedException {
    List<String> full = batch;
    batch = new ArrayList<>(batchSize);
    synchronized (lock) {
      pending++;
    }
    // Blocks while maxInFlightBatches batches wait: this is the backpressure.
    while (!queue.offer(full, 100, TimeUnit.MILLISECONDS)) {
      checkFailure();
    }
  }

  private void scheduleIntervalFlush() {
    if (timers == null) {
      return;
    }
    timers.registerTimer(
        timers.getCurrentProcessingTime() + flushIntervalMs,
        t -> {
          if (!batch.isEmpty() && failure.get() == null) {
            enqueue();
          }
          scheduleIntervalFlush();
        });
  }

  private void sendLoop() {
    try {
      while (true) {
        List<String> b = queue.take();
        if (b == STOP) {
          return;
        }
        try {
          if (failure.get() == null && sender.send(b) instanceof WriteOutcome.Delivered) {
            pointsWritten.addAndGet(b.size());
          }
        } catch (IOException | RuntimeException e) {
          failure.compareAndSet(null, e);
        }
        synchronized (lock) {
          pending = Math.max(0, pending - 1);
          lock.notifyAll();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void checkFailure() throws IOException {
    Throwable t = failure.get();
    if (t != null) {
      throw t instanceof IOException io
          ? new IOException(io.getMessage(), io)
          : new IOException("InfluxDB sender failed: " + t, t);
    }
  }

  public long pointsWritten() {
    return pointsWritten.get();
  }

  public long retries() {
    return sender.retries();
  }

  public long rejectedPoints() {
    return sender.rejectedPoints();
  }

  @Override
  public void close() throws Exception {
    queue.clear();
    synchronized (lock) {
      pending = 0;
      lock.notifyAll();
    }
    if (!queue.offer(STOP)) {
      thread.interrupt();
    }
    thread.join(10_000);
    if (thread.isAlive()) {
      thread.interrupt();
    }
    batchWriter.close();
  }
}
