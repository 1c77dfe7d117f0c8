package dev.trainwatch.jobs.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.storage.DetectorMetric;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.DeadLetter;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.apache.flink.streaming.api.transformations.OneInputTransformation;
import org.junit.jupiter.api.Test;

/** The detectors' metrics are collected exactly when the built job reads them, by any path. */
class TrainwatchJobMetricsTest {

  private static boolean collects(TrainwatchJob.Extension extension) {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    KafkaSource<RawTelemetry> source =
        KafkaSource.<RawTelemetry>builder()
            .setBootstrapServers("127.0.0.1:1") // never contacted: the job is built, not run
            .setTopics("t")
            .setDeserializer(new RawTelemetryDeserializer())
            .build();
    DataStream<AlertEvent> alerts =
        new TrainwatchJob(
                source,
                new DiscardingSink<AlertEvent>(),
                new DiscardingSink<DeadLetter>(),
                DetectorConfig.DEFAULTS,
                60_000)
            .build(env, extension);
    Transformation<?> t = alerts.getTransformation();
    var factory = ((OneInputTransformation<?, ?>) t).getOperatorFactory();
    MiniBatchOperator op = (MiniBatchOperator) ((SimpleOperatorFactory<?>) factory).getOperator();
    return ((MonitorFunction) op.getUserFunction()).collectsMetrics();
  }

  @Test
  void notCollectedWhenNothingReadsThem() {
    assertThat(collects((records, alerts, metrics) -> records.sinkTo(new DiscardingSink<>())))
        .isFalse();
  }

  @Test
  void collectedWhenReadDirectly() {
    assertThat(collects((records, alerts, metrics) -> metrics.sinkTo(new DiscardingSink<>())))
        .isTrue();
  }

  @Test
  void collectedWhenReadThroughAUnionOrAKeyBy() {
    assertThat(
            collects(
                (records, alerts, metrics) ->
                    metrics
                        .keyBy(DetectorMetric::run)
                        .map(DetectorMetric::name)
                        .returns(Types.STRING)
                        .sinkTo(new DiscardingSink<>())))
        .isTrue();
    assertThat(
            collects(
                (records, alerts, metrics) ->
                    metrics.union(metrics).sinkTo(new DiscardingSink<>())))
        .isTrue();
  }
}
