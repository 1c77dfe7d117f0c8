package dev.trainwatch.jobs.storage;

import java.io.IOException;
import java.io.Serializable;
import java.time.Clock;
import java.util.function.Function;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.metrics.Gauge;

/**
 * Flink Sink v2 writing {@link InfluxLine} points to InfluxDB 1.x with influxdb-java.
 *
 * <p>Delivery guarantee: at-least-once (every checkpoint flushes and waits for the writes), and
 * because every point's series and timestamp are a pure function of the record ({@link PointTime}),
 * the duplicates a restore replays overwrite the same points: the stored data is effectively
 * exactly-once. Retryable failures are retried until {@code influx.retry-deadline.ms}, then the
 * task fails and Flink restores.
 *
 * <pre>{@code
 * points.sinkTo(new InfluxSink(InfluxSinkConfig.forUrl("http://127.0.0.1:8086")));
 * }</pre>
 */
public final class InfluxSink implements Sink<InfluxLine> {

  private static final long serialVersionUID = 1L;

  private final InfluxSinkConfig config;
  private final SerializableFactory writerFactory;

  /** Creates the {@link BatchWriter} on the task manager; tests substitute failing writers. */
  public interface SerializableFactory
      extends Function<InfluxSinkConfig, BatchWriter>, Serializable {}

  public InfluxSink(InfluxSinkConfig config) {
    this(config, InfluxBatchWriter::new);
  }

  public InfluxSink(InfluxSinkConfig config, SerializableFactory writerFactory) {
    this.config = config;
    this.writerFactory = writerFactory;
  }

  @Override
  public SinkWriter<InfluxLine> createWriter(WriterInitContext context) throws IOException {
    InfluxSinkWriter w =
        open(config, writerFactory.apply(config), context.getProcessingTimeService());
    context.metricGroup().gauge("influxPointsWritten", (Gauge<Long>) w::pointsWritten);
    context.metricGroup().gauge("influxRetries", (Gauge<Long>) w::retries);
    context.metricGroup().gauge("influxRejectedPoints", (Gauge<Long>) w::rejectedPoints);
    return w;
  }

  /** A writer outside Flink (benchmarks, the embedded demo's direct path, tests). */
  public static InfluxSinkWriter open(
      InfluxSinkConfig config, BatchWriter writer, ProcessingTimeService timers) {
    RetryingSender sender =
        new RetryingSender(writer, config.retryDeadlineMs(), Clock.systemUTC(), Thread::sleep);
    return new InfluxSinkWriter(
        writer,
        sender,
        config.batchSize(),
        config.maxInFlightBatches(),
        config.flushIntervalMs(),
        timers);
  }
}
