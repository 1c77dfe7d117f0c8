package dev.trainwatch.jobs.storage;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.TelemetryRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * Adds InfluxDB storage to the detection job: telemetry and alert events are mapped to points
 * in parallel, unioned and written by one {@link InfluxSink}. Detector metrics join the same
 * sink through {@link #attachDetectorMetrics} once detectors emit them.
 *
 * <pre>{@code
 * new TrainwatchJob(...).build(env, (records, alerts, metrics) -> StorageTopology.attach(records, alerts, metrics, config));
 * }</pre>
 */
public final class StorageTopology {

  private StorageTopology() {}

  /** Stores telemetry, alerts and detector metrics in one sink. */
  public static DataStream<InfluxLine> attach(DataStream<TelemetryRecord> records,
      DataStream<AlertEvent> alerts, DataStream<DetectorMetric> detectorMetrics, InfluxSinkConfig config) {
    DataStream<InfluxLine> points = points(records, alerts).union(detectorMetrics.map(Points::detector)
        .returns(TypeInformation.of(InfluxLine.class)).uid("detector-points").name("detector points"));
    points.sinkTo(new InfluxSink(config)).uid("influx-sink").name("influxdb");
    return points;
  }

  /** Stores telemetry and alerts; returns the point stream so more points can be unioned in. */
  public static DataStream<InfluxLine> attach(DataStream<TelemetryRecord> records,
      DataStream<AlertEvent> alerts, InfluxSinkConfig config) {
    DataStream<InfluxLine> points = points(records, alerts);
    points.sinkTo(new InfluxSink(config)).uid("influx-sink").name("influxdb");
    return points;
  }

  /** The point stream of telemetry and alerts, without a sink. */
  public static DataStream<InfluxLine> points(DataStream<TelemetryRecord> records, DataStream<AlertEvent> alerts) {
    DataStream<InfluxLine> telemetry = records
        .<InfluxLine>flatMap((r, out) -> Points.telemetry(r).forEach(out::collect))
        .returns(TypeInformation.of(InfluxLine.class))
        .uid("telemetry-points").name("telemetry points");
    DataStream<InfluxLine> alertPoints = alerts
        .map(Points::alert)
        .returns(TypeInformation.of(InfluxLine.class))
        .uid("alert-points").name("alert points");
    return telemetry.union(alertPoints);
  }

  /** Stores detector metrics with their own sink instance (same schema, same guarantee). */
  public static void attachDetectorMetrics(DataStream<DetectorMetric> metrics, InfluxSinkConfig config) {
    metrics.map(Points::detector).returns(TypeInformation.of(InfluxLine.class))
        .uid("detector-points").name("detector points")
        .sinkTo(new InfluxSink(config)).uid("influx-detector-sink").name("influxdb detector metrics");
  }
}
