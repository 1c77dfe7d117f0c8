package dev.trainwatch.jobs.bench;

import dev.trainwatch.jobs.detect.Detector;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.DetectorRegistry;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryBinary;
import dev.trainwatch.wire.TelemetryJson;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Per-record cost of parsing and of each detector, and state bytes per run, measured in-process
 * over a fixed record list (warm-up rounds first, then timed rounds; the minimum of the timed
 * rounds is reported, the usual defence against a noisy shared machine), in the thread's CPU time,
 * not wall time.
 */
final class DetectorBench {

  /**
   * {@code parseNsPerRecord}: JSON, parse + validate; {@code decodeNsPerRecord}: the sidecar's
   * binary form, decode + validate.
   */
  record Result(
      Map<String, Double> nsPerRecord,
      double parseNsPerRecord,
      double decodeNsPerRecord,
      double meanStateBytes,
      int maxStateBytes) {}

  static final String ALL = "all detectors (RunMonitor)";

  private DetectorBench() {}

  static Result run(List<TelemetryRecord> records, int rounds) {
    return run(records, rounds, true);
  }

  /** Parsing and all detectors together, without the per-detector rounds (wide records). */
  static Result totals(List<TelemetryRecord> records, int rounds) {
    return run(records, rounds, false);
  }

  /** State bytes per run only, after feeding {@code records}. */
  static Result state(List<TelemetryRecord> records) {
    return stateOf(records, Map.of(), 0, 0);
  }

  private static Result run(List<TelemetryRecord> given, int rounds, boolean perDetector) {
    List<byte[]> json = given.stream().map(TelemetryJson::toBytes).toList();
    // the detectors see records as the job hands them over: parsed, so records of one shape
    // share their names array (and a wide record's name index)
    List<TelemetryRecord> records =
        json.stream()
            .map(b -> ((ParseResult.Parsed) TelemetryParser.DEFAULT.parse(b)).record())
            .toList();
    Map<String, Double> ns = new LinkedHashMap<>();
    int n = perDetector ? DetectorRegistry.newDetectors().size() : 0;
    for (int d = 0; d < n; d++) {
      final int index = d;
      String name = DetectorRegistry.newDetectors().get(d).name();
      ns.put(
          name,
          bestOf(
                  rounds,
                  () -> feed(records, () -> List.of(DetectorRegistry.newDetectors().get(index))))
              / records.size());
    }
    ns.put(
        ALL, bestOf(rounds, () -> feed(records, DetectorRegistry::newDetectors)) / records.size());

    double parse = readCost(json, TelemetryParser.DEFAULT::parse, "parse", rounds);
    TelemetryBinary.Encoder encoder = new TelemetryBinary.Encoder();
    List<byte[]> binary = records.stream().map(encoder::encode).toList();
    TelemetryBinary.Decoder decoder = new TelemetryBinary.Decoder(TelemetryParser.Limits.DEFAULT);
    double decode = readCost(binary, decoder::decode, "decode", rounds);
    return stateOf(records, ns, parse, decode);
  }

  /** CPU ns per record to read {@code inputs} with {@code read}; each one must be accepted. */
  private static double readCost(
      List<byte[]> inputs, Function<byte[], ParseResult> read, String verb, int rounds) {
    return bestOf(
            rounds,
            () -> {
              long t = cpuNanos();
              int ok = 0;
              for (byte[] b : inputs) {
                ok += read.apply(b) instanceof ParseResult.Parsed ? 1 : 0;
              }
              if (ok != inputs.size()) {
                throw new IllegalStateException("bench records must " + verb);
              }
              return cpuNanos() - t;
            })
        / inputs.size();
  }

  private static Result stateOf(
      List<TelemetryRecord> records, Map<String, Double> ns, double parse, double decode) {
    Map<String, RunMonitor> monitors = new HashMap<>();
    for (TelemetryRecord r : records) {
      monitors
          .computeIfAbsent(r.run(), k -> new RunMonitor(k, DetectorConfig.DEFAULTS))
          .observe(r, a -> {});
    }
    int max = 0;
    long sum = 0;
    for (RunMonitor m : monitors.values()) {
      int b = m.stateBytes();
      sum += b;
      max = Math.max(max, b);
    }
    return new Result(ns, parse, decode, (double) sum / monitors.size(), max);
  }

  private static long feed(List<TelemetryRecord> records, Supplier<List<Detector>> detectors) {
    Map<String, RunMonitor> monitors = new HashMap<>();
    List<Object> sink = new ArrayList<>();
    long t = cpuNanos();
    for (TelemetryRecord r : records) {
      RunMonitor m = monitors.get(r.run());
      if (m == null) {
        m = new RunMonitor(r.run(), DetectorConfig.DEFAULTS, detectors.get());
        monitors.put(r.run(), m);
      }
      m.observe(r, sink::add);
    }
    return cpuNanos() - t;
  }

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /**
   * This thread's CPU time: on a machine shared by several loaded processes, wall time mostly
   * measures the wait for a core (10x at a load of 25 on 2 cores); CPU time does not.
   */
  private static long cpuNanos() {
    return THREADS.getCurrentThreadCpuTime();
  }

  private static double bestOf(int rounds, LongSupplier timed) {
    for (int i = 0; i < Math.max(2, rounds / 2); i++) {
      timed.getAsLong(); // warm-up: JIT and caches
    }
    long best = Long.MAX_VALUE;
    for (int i = 0; i < rounds; i++) {
      best = Math.min(best, timed.getAsLong());
    }
    return best;
  }
}
