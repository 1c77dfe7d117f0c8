package dev.trainwatch.jobs.demo;

import dev.trainwatch.wire.TelemetryRecord;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;

/** The records of a whole demo run, with the series accessors the behaviour tests need. */
record Trace(List<TelemetryRecord> records) {

  static final InstantSource FIXED_CLOCK = InstantSource.fixed(Instant.parse("2026-01-01T00:00:00Z"));

  static Trace of(DemoRun run) {
    List<TelemetryRecord> out = new ArrayList<>();
    run.forEachRemaining(out::add);
    return new Trace(out);
  }

  /** The metric at every step (NaN where the step did not publish it). */
  double[] series(String metric) {
    return records.stream().mapToDouble(r -> r.metrics().get(metric)).toArray();
  }

  /** First step at which {@code metric >= threshold}, or -1. */
  int firstStepAtLeast(String metric, double threshold) {
    double[] s = series(metric);
    for (int i = 0; i < s.length; i++) {
      if (s[i] >= threshold) {
        return i;
      }
    }
    return -1;
  }

  static double max(double[] s, int from, int to) {
    double m = Double.NEGATIVE_INFINITY;
    for (int i = from; i < to; i++) {
      m = Math.max(m, s[i]);
    }
    return m;
  }

  static double min(double[] s, int from, int to) {
    double m = Double.POSITIVE_INFINITY;
    for (int i = from; i < to; i++) {
      m = Math.min(m, s[i]);
    }
    return m;
  }

  static double mean(double[] s, int from, int to) {
    double sum = 0;
    for (int i = from; i < to; i++) {
      sum += s[i];
    }
    return sum / (to - from);
  }
}
