package dev.trainwatch.ingest.pipeline;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The memory queue between the inputs and Kafka, bounded in records and in bytes.
 *
 * <p>Why bytes: 20,000 records of up to 1 MiB each are 20 GiB; bounded by count alone, a few
 * clients posting large records ran the sidecar out of memory (at 512 MB of heap) and lost what it
 * had acknowledged. A record is admitted when its bytes fit, or when the queue is empty (so one
 * record larger than the budget still passes, alone). Only the methods the inputs and the forwarder
 * use keep the byte count: {@code offer}, {@code put}, {@code poll}, {@code take}, {@code drainTo}
 * and {@code clear}.
 */
public final class OutgoingQueue extends LinkedBlockingQueue<Outgoing> {

  private static final long serialVersionUID = 1L;

  /** Per-record bookkeeping beyond the value: key, topic, object headers. */
  private static final int OVERHEAD = 96;

  private final long maxBytes;
  private final transient Object lock = new Object();
  private long bytes;

  public OutgoingQueue(int capacity, long maxBytes) {
    super(capacity);
    if (maxBytes < 1) {
      throw new IllegalArgumentException("queue.max.bytes must be >= 1, got " + maxBytes);
    }
    this.maxBytes = maxBytes;
  }

  /** Bytes the queued records take, as counted against {@code queue.max.bytes}. */
  public long bytes() {
    synchronized (lock) {
      return bytes;
    }
  }

  public long maxBytes() {
    return maxBytes;
  }

  static long weight(Outgoing o) {
    return o.value().length + (o.key() == null ? 0 : 2L * o.key().length()) + OVERHEAD;
  }

  private boolean reserve(long n, long timeoutNanos) throws InterruptedException {
    synchronized (lock) {
      long deadline = System.nanoTime() + timeoutNanos;
      while (bytes > 0 && bytes + n > maxBytes) {
        long left = deadline - System.nanoTime();
        if (timeoutNanos != Long.MAX_VALUE && left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(
            lock, timeoutNanos == Long.MAX_VALUE ? TimeUnit.SECONDS.toNanos(1) : left);
      }
      bytes += n;
      return true;
    }
  }

  private void release(long n) {
    synchronized (lock) {
      bytes -= n;
      lock.notifyAll();
    }
  }

  private Outgoing released(Outgoing o) {
    if (o != null) {
      release(weight(o));
    }
    return o;
  }

  @Override
  public boolean offer(Outgoing o) {
    try {
      return offer(o, 0, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public boolean offer(Outgoing o, long timeout, TimeUnit unit) throws InterruptedException {
    long n = weight(o);
    long start = System.nanoTime();
    long budget = unit.toNanos(timeout);
    if (!reserve(n, budget)) {
      return false;
    }
    if (!super.offer(o, Math.max(0, budget - (System.nanoTime() - start)), TimeUnit.NANOSECONDS)) {
      release(n);
      return false;
    }
    return true;
  }

  @Override
  public void put(Outgoing o) throws InterruptedException {
    long n = weight(o);
    reserve(n, Long.MAX_VALUE);
    try {
      super.put(o);
    } catch (InterruptedException e) {
      release(n);
      throw e;
    }
  }

  @Override
  public Outgoing poll() {
    return released(super.poll());
  }

  @Override
  public Outgoing poll(long timeout, TimeUnit unit) throws InterruptedException {
    return released(super.poll(timeout, unit));
  }

  @Override
  public Outgoing take() throws InterruptedException {
    return released(super.take());
  }

  @Override
  public int drainTo(Collection<? super Outgoing> c) {
    return drainTo(c, Integer.MAX_VALUE);
  }

  @Override
  public int drainTo(Collection<? super Outgoing> c, int max) {
    List<Outgoing> taken = new ArrayList<>();
    int n = super.drainTo(taken, max);
    long total = 0;
    for (Outgoing o : taken) {
      total += weight(o);
    }
    if (n > 0) {
      release(total);
    }
    c.addAll(taken);
    return n;
  }

  @Override
  public void clear() {
    drainTo(new ArrayList<>());
  }
}
