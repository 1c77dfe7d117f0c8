package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.TelemetryRecord;

/**
 * A detector that also exposes the numbers behind its decisions (its baseline, its margin to the
 * threshold, the continual-evaluation metrics), so dashboards can draw the value against what the
 * detector compares it with. {@link RunMonitor} asks for them every few records, after {@link
 * Detector#observe}; only finite values should be reported.
 */
public interface MetricsReporter {

  void reportMetrics(TelemetryRecord record, RunContext ctx, MetricSink out);
}
