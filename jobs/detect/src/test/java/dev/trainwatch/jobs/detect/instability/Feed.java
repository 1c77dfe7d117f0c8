package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.Detector;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import dev.trainwatch.wire.TraceFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/** Test fixtures: synthetic runs, real traces and a one-detector monitor that collects alerts. */
final class Feed {

  static final String RUN = "run-1";

  private Feed() {}

  /** A record with the given metric name/value pairs. */
  static TelemetryRecord rec(long step, Object... kv) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], ((Number) kv[i + 1]).doubleValue());
    }
    return TelemetryRecord.of(RUN, step, Metrics.of(m));
  }

  /** Records for steps [from, to) built by {@code f}. */
  static List<TelemetryRecord> steps(long from, long to, LongFunction<TelemetryRecord> f) {
    List<TelemetryRecord> out = new ArrayList<>();
    for (long s = from; s < to; s++) {
      out.add(f.apply(s));
    }
    return out;
  }

  static List<AlertEvent> run(Detector d, List<TelemetryRecord> records, String... settings) {
    RunMonitor m = new RunMonitor(RUN, config(settings), List.of(d));
    List<AlertEvent> out = new ArrayList<>();
    for (TelemetryRecord r : records) {
      m.observe(r, out::add);
    }
    return out;
  }

  static DetectorConfig config(String... settings) {
    Map<String, String> s = new LinkedHashMap<>();
    for (String kv : settings) {
      int eq = kv.indexOf('=');
      s.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return new DetectorConfig(new Settings(s));
  }

  static List<AlertEvent> firing(List<AlertEvent> alerts) {
    return alerts.stream().filter(a -> a.status() == Status.FIRING).toList();
  }

  static Path traces() {
    return Path.of(System.getProperty("trainwatch.shared", "../../shared"), "eval", "traces");
  }

  static boolean tracesPresent() {
    return Files.isRegularFile(traces().resolve("labels.json"));
  }

  static List<TelemetryRecord> trace(String run) {
    List<TelemetryRecord> out = new ArrayList<>();
    TraceFiles.forEachLine(
        traces().resolve(run + ".jsonl.gz"),
        line -> {
          if (TelemetryParser.DEFAULT.parse(line) instanceof ParseResult.Parsed p) {
            out.add(p.record());
          }
        });
    return out;
  }
}
