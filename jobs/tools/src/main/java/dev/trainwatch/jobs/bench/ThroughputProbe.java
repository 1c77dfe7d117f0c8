package dev.trainwatch.jobs.bench;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * Counts records passing a point of a job running on the local MiniCluster (same JVM) and remembers
 * when the first and the last passed, so the rate excludes job start-up and the final checkpoint.
 * With backpressure, the rate at a point upstream of the slowest operator equals that operator's
 * rate (minus what the network buffers hold, negligible here).
 *
 * <p>The steady-state rate leaves out the first third of the records as well: in a JVM that runs
 * two different jobs in turn, the start of each round recompiles the code the jobs share (Flink's
 * input and output paths, whose call sites the other job made megamorphic). Once the third has
 * passed, a callback runs ({@link #reset(String, long, Runnable)}: the bench restarts its CPU
 * accounting there, so CPU per record is of the steady part too).
 *
 * <p>Each subtask counts in its own fields and publishes once, at close, and to the shared progress
 * counter once every {@value #STRIDE} records: a shared counter touched by every record of every
 * subtask would itself cost a contended cache line per record and slow both measured jobs alike.
 */
final class ThroughputProbe<T> extends RichMapFunction<T, T> {

  private static final long serialVersionUID = 1L;
  private static final int STRIDE = 1024;

  /** What all subtasks of one probe saw. */
  private static final class Totals {
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    long count;
    final AtomicLong progress = new AtomicLong();
    final long steadyFrom;
    final Runnable atSteady;
    volatile long steadyNanos;
    volatile long steadyCount;

    Totals(long steadyFrom, Runnable atSteady) {
      this.steadyFrom = steadyFrom;
      this.atSteady = atSteady;
    }
  }

  private static final ConcurrentHashMap<String, Totals> TOTALS = new ConcurrentHashMap<>();

  private final String name;
  private transient Totals totals;
  private transient long first;
  private transient long last;
  private transient long count;

  ThroughputProbe(String name) {
    this.name = name;
  }

  static void reset(String name) {
    reset(name, Long.MAX_VALUE, () -> {});
  }

  /**
   * Starts counting for {@code name}; {@code atSteady} runs once {@code steadyFrom} records have
   * passed (from a task thread).
   */
  static void reset(String name, long steadyFrom, Runnable atSteady) {
    TOTALS.put(name, new Totals(steadyFrom, atSteady));
  }

  /** Records per second between the first and the last record seen by any subtask. */
  static double rate(String name) {
    Totals t = TOTALS.get(name);
    return t.count <= 1 ? 0 : (t.count - 1) / ((t.last - t.first) / 1e9);
  }

  /**
   * Records per second from the steady-state mark to the last record ({@link #rate} if the mark was
   * never reached).
   */
  static double steadyRate(String name) {
    Totals t = TOTALS.get(name);
    if (t.steadyNanos == 0 || t.last <= t.steadyNanos) {
      return rate(name);
    }
    return (t.count - t.steadyCount) / ((t.last - t.steadyNanos) / 1e9);
  }

  /** Records counted from the steady-state mark to the end (all of them without a mark). */
  static long steadyCount(String name) {
    Totals t = TOTALS.get(name);
    return t.steadyNanos == 0 ? t.count : t.count - t.steadyCount;
  }

  static long count(String name) {
    return TOTALS.get(name).count;
  }

  @Override
  public void open(OpenContext ctx) {
    totals = TOTALS.get(name);
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
    if ((count & (STRIDE - 1)) == 0) {
      long now = totals.progress.addAndGet(STRIDE);
      if (now >= totals.steadyFrom && now - STRIDE < totals.steadyFrom) {
        totals.atSteady.run();
        totals.steadyCount = now;
        totals.steadyNanos = System.nanoTime();
      }
    }
    return value;
  }

  @Override
  public void close() {
    if (count > 0) {
      synchronized (totals) {
        totals.first = Math.min(totals.first, first);
        totals.last = Math.max(totals.last, last);
        totals.count += count;
      }
    }
  }
}
