package dev.trainwatch.jobs.bench;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.functions.MapFunction;

/**
 * Counts records passing a point of a job running on the local MiniCluster (same JVM) and
 * remembers when the first and the last passed, so the rate excludes job start-up and the
 * final checkpoint. With backpressure, the rate at a point upstream of the slowest operator
 * equals that operator's rate (minus what the network buffers hold, negligible here).
 */
final class ThroughputProbe<T> implements MapFunction<T, T> {

  private static final long serialVersionUID = 1L;
  private static final ConcurrentHashMap<String, long[]> WINDOWS = new ConcurrentHashMap<>();
  private static final ConcurrentHashMap<String, AtomicLong> COUNTS = new ConcurrentHashMap<>();

  private final String name;

  ThroughputProbe(String name) {
    this.name = name;
  }

  static void reset(String name) {
    WINDOWS.put(name, new long[] {Long.MAX_VALUE, Long.MIN_VALUE});
    COUNTS.put(name, new AtomicLong());
  }

  /** Records per second between the first and the last record seen. */
  static double rate(String name) {
    long[] w = WINDOWS.get(name);
    long n = COUNTS.get(name).get();
    return n <= 1 ? 0 : (n - 1) / ((w[1] - w[0]) / 1e9);
  }

  static long count(String name) {
    return COUNTS.get(name).get();
  }

  @Override
  public T map(T value) {
    long now = System.nanoTime();
    long[] w = WINDOWS.get(name);
    synchronized (w) {
      if (now < w[0]) {
        w[0] = now;
      }
      if (now > w[1]) {
        w[1] = now;
      }
    }
    COUNTS.get(name).incrementAndGet();
    return value;
  }
}
