package dev.trainwatch.jobs.storage;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.TelemetryRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * Adds InfluxDB storage to the detection job: telemetry, alert events and detector metrics are
 * mapped to points in parallel, unioned and written by one {@link InfluxSink}.
 *
 * <pre>{@code
 * new TrainwatchJob(...).build(env, (records, alerts, metrics) -> StorageTopology.attach(records, alerts, metrics, config));
 * }</pre>
 */
public final class StorageTopology {

  private StorageTopology() {}

  /** Stores telemetry, alerts and detector metrics in one sink; returns the point stream. */
  public static DataStream<InfluxLine> attach(
      DataStream<TelemetryRecord> records,
      DataStream<AlertEvent> alerts,
      DataStream<DetectorMetric> detectorMetrics,
      InfluxSinkConfig config) {
    DataStream<InfluxLine> points = points(records, alerts, detectorMetrics);
    points.sinkTo(new InfluxSink(config)).uid("influx-sink").name("influxdb");
    return points;
  }

  /** The point stream of telemetry, alerts and detector metrics, without a sink. */
  static DataStream<InfluxLine> points(
      DataStream<TelemetryRecord> records,
      DataStream<AlertEvent> alerts,
      DataStream<DetectorMetric> detectorMetrics) {
    DataStream<InfluxLine> telemetry =
        records
            .<InfluxLine>flatMap((r, out) -> Points.telemetry(r).forEach(out::collect))
            .returns(TypeInformation.of(InfluxLine.class))
            .uid("telemetry-points")
            .name("telemetry points");
    DataStream<InfluxLine> alertPoints =
        alerts
            .map(Points::alert)
            .returns(TypeInformation.of(InfluxLine.class))
            .uid("alert-points")
            .name("alert points");
    DataStream<InfluxLine> detectorPoints =
        detectorMetrics
            .map(Points::detector)
            .returns(TypeInformation.of(InfluxLine.class))
            .uid("detector-points")
            .name("detector points");
    return telemetry.union(alertPoints, detectorPoints);
  }
}
