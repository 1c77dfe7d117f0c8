package dev.trainwatch.jobs.bench;

import dev.trainwatch.jobs.detect.Detector;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.DetectorRegistry;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.wire.TelemetryJson;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-record cost of parsing and of each detector, and state bytes per run, measured
 * in-process over a fixed record list (warm-up rounds first, then timed rounds; the minimum
 * of the timed rounds is reported, the usual defence against a noisy shared machine).
 */
final class DetectorBench {

  record Result(Map<String, Double> nsPerRecord, double parseNsPerRecord, double meanStateBytes,
      int maxStateBytes) {}

  private DetectorBench() {}

  static Result run(List<TelemetryRecord> records, int rounds) {
    Map<String, Double> ns = new LinkedHashMap<>();
    int n = DetectorRegistry.newDetectors().size();
    for (int d = 0; d < n; d++) {
      final int index = d;
      String name = DetectorRegistry.newDetectors().get(d).name();
      ns.put(name, bestOf(rounds, () -> feed(records, () -> List.of(DetectorRegistry.newDetectors().get(index)))) / records.size());
    }
    ns.put("all detectors (RunMonitor)", bestOf(rounds, () -> feed(records, DetectorRegistry::newDetectors)) / records.size());

    List<byte[]> json = records.stream().map(TelemetryJson::toBytes).toList();
    double parse = bestOf(rounds, () -> {
      long t = System.nanoTime();
      int ok = 0;
      for (byte[] b : json) {
        ok += TelemetryParser.DEFAULT.parse(b) instanceof dev.trainwatch.wire.ParseResult.Parsed ? 1 : 0;
      }
      if (ok != json.size()) {
        throw new IllegalStateException("bench records must parse");
      }
      return System.nanoTime() - t;
    }) / records.size();

    Map<String, RunMonitor> monitors = new HashMap<>();
    for (TelemetryRecord r : records) {
      monitors.computeIfAbsent(r.run(), k -> new RunMonitor(k, DetectorConfig.DEFAULTS)).observe(r, a -> {});
    }
    int max = 0;
    long sum = 0;
    for (RunMonitor m : monitors.values()) {
      int b = m.stateBytes();
      sum += b;
      max = Math.max(max, b);
    }
    return new Result(ns, parse, (double) sum / monitors.size(), max);
  }

  private static long feed(List<TelemetryRecord> records, java.util.function.Supplier<List<Detector>> detectors) {
    Map<String, RunMonitor> monitors = new HashMap<>();
    List<Object> sink = new ArrayList<>();
    long t = System.nanoTime();
    for (TelemetryRecord r : records) {
      RunMonitor m = monitors.get(r.run());
      if (m == null) {
        m = new RunMonitor(r.run(), DetectorConfig.DEFAULTS, detectors.get());
        monitors.put(r.run(), m);
      }
      m.observe(r, sink::add);
    }
    return System.nanoTime() - t;
  }

  private static double bestOf(int rounds, java.util.function.LongSupplier timed) {
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
