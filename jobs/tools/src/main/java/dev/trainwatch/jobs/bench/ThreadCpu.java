package dev.trainwatch.jobs.bench;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time spent by the threads of a job running in this JVM, grouped by what the threads are
 * (Flink names task threads after their chained operators). Task threads end with their job, taking
 * their CPU counters with them, so a daemon thread samples every live thread's counter while the
 * job runs and keeps each thread's last reading; at most one sampling period of each thread's end
 * is lost.
 *
 * <p>Why: on a shared 2-core machine a throughput ratio mixes everything running at once (broker,
 * sources, compiler threads); CPU per record and per stage says where the time goes.
 */
final class ThreadCpu implements AutoCloseable {

  private static final long PERIOD_MS = 50;

  private final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
  private final Map<Long, String> names = new HashMap<>();
  private final Map<Long, Long> first = new HashMap<>();
  private final Map<Long, Long> last = new HashMap<>();
  private final Thread sampler;
  private long processStart;
  private long gcStart;
  private long compileStart;
  private volatile boolean running = true;

  private ThreadCpu() {
    processStart = processCpu();
    gcStart = gcMillis();
    compileStart = compileMillis();
    sample();
    sampler =
        new Thread(
            () -> {
              while (running) {
                sample();
                try {
                  Thread.sleep(PERIOD_MS);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "bench-thread-cpu");
    sampler.setDaemon(true);
    sampler.start();
  }

  static ThreadCpu start() {
    return new ThreadCpu();
  }

  /**
   * Starts the accounting afresh from now (threads' CPU so far, GC and JIT time, process CPU): the
   * usage {@link #stop} reports is then of what ran after the mark.
   */
  synchronized void mark() {
    sample();
    first.putAll(last);
    processStart = processCpu();
    gcStart = gcMillis();
    compileStart = compileMillis();
  }

  private synchronized void sample() {
    long[] ids = mx.getAllThreadIds();
    ThreadInfo[] infos = mx.getThreadInfo(ids);
    for (int i = 0; i < ids.length; i++) {
      long cpu = mx.getThreadCpuTime(ids[i]);
      if (cpu < 0 || infos[i] == null) {
        continue; // ended meanwhile, or CPU time unsupported
      }
      names.putIfAbsent(ids[i], infos[i].getThreadName());
      first.putIfAbsent(ids[i], cpu);
      last.put(ids[i], cpu);
    }
  }

  /**
   * What a job cost while it ran: CPU nanoseconds per {@link #stage}, plus {@value #JVM} (what the
   * JVM spent outside Java threads, from the process total), and, as wall time, the GC's
   * collections and the JIT's compiling, which split that last figure.
   */
  record Usage(Map<String, Long> cpuByStage, long gcWallNanos, long jitWallNanos) {}

  /** Stops sampling; the usage since {@link #start}. */
  Usage stop() throws InterruptedException {
    close();
    synchronized (this) {
      sample();
      Map<String, Long> cpu = new TreeMap<>();
      long threads = 0;
      for (Map.Entry<Long, Long> e : last.entrySet()) {
        long used = e.getValue() - first.get(e.getKey());
        threads += used;
        cpu.merge(stage(names.get(e.getKey())), used, Long::sum);
      }
      cpu.put(JVM, Math.max(0, processCpu() - processStart - threads));
      return new Usage(
          cpu, (gcMillis() - gcStart) * 1_000_000, (compileMillis() - compileStart) * 1_000_000);
    }
  }

  static final String JVM = "JVM threads (JIT compilers, GC)";
  private static final String OTHER = "other Java threads (producer, checkpoints, ...)";

  private static long gcMillis() {
    long ms = 0;
    for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ms += Math.max(0, gc.getCollectionTime());
    }
    return ms;
  }

  private static long compileMillis() {
    var jit = ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported()
        ? jit.getTotalCompilationTime()
        : 0;
  }

  private static long processCpu() {
    return ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean os
        ? os.getProcessCpuTime()
        : 0;
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    sampler.interrupt();
    sampler.join();
  }

  /** The stage of the keyed operator's threads. */
  static final String KEYED = "keyed operator (shuffle in, state, work)";

  /** The stage a Flink or Kafka thread belongs to, by its name. */
  private static String stage(String thread) {
    if (thread == null) {
      return OTHER;
    }
    if (thread.startsWith("Source Data Fetcher")) {
      return "Kafka fetch (source)";
    }
    if (thread.startsWith("Source:")) {
      return "source: deserialize + peek run";
    }
    if (thread.startsWith("KeyedProcess") || thread.startsWith("validate")) {
      return KEYED;
    }
    if (thread.startsWith("data-plane-kafka") || thread.startsWith("kafka-")) {
      return "Kafka broker";
    }
    return OTHER;
  }
}
