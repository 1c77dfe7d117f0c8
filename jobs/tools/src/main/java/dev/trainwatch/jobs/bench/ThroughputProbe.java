package dev.trainwatch.jobs.bench;

import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * Counts records passing a point of a job running on the local MiniCluster (same JVM) and remembers
 * when the first and the last passed, so the rate excludes job start-up and the final checkpoint.
 * With backpressure, the rate at a point upstream of the slowest operator equals that operator's
 * rate (minus what the network buffers hold, negligible here).
 *
 * <p>Each subtask counts in its own fields and publishes once, at close: a shared counter touched
 * by every record of every subtask would itself cost a contended cache line per record and slow
 * both measured jobs alike.
 */
final class ThroughputProbe<T> extends RichMapFunction<T, T> {

  private static final long serialVersionUID = 1L;

  /** name -> {first ns, last ns, count}, merged over subtasks. */
  private static final ConcurrentHashMap<String, long[]> TOTALS = new ConcurrentHashMap<>();

  private final String name;
  private transient long first;
  private transient long last;
  private transient long count;

  ThroughputProbe(String name) {
    this.name = name;
  }

  static void reset(String name) {
    TOTALS.put(name, new long[] {Long.MAX_VALUE, Long.MIN_VALUE, 0});
  }

  /** Records per second between the first and the last record seen by any subtask. */
  static double rate(String name) {
    long[] t = TOTALS.get(name);
    return t[2] <= 1 ? 0 : (t[2] - 1) / ((t[1] - t[0]) / 1e9);
  }

  static long count(String name) {
    return TOTALS.get(name)[2];
  }

  @Override
  public void open(OpenContext ctx) {
    first = Long.MAX_VALUE;
    last = Long.MIN_VALUE;
    count = 0;
  }

  @Override
  public T map(T value) {
    last = System.nanoTime();
    if (count++ == 0) {
      first = last;
    }
    return value;
  }

  @Override
  public void close() {
    if (count > 0) {
      TOTALS.compute(
          name,
          (k, t) -> {
            t[0] = Math.min(t[0], first);
            t[1] = Math.max(t[1], last);
            t[2] += count;
            return t;
          });
    }
  }
}
