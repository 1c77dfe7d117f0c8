package dev.trainwatch.jobs.flink;

import dev.trainwatch.wire.TelemetryBinary;
import dev.trainwatch.wire.TelemetryParser;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Passes Kafka values through unvalidated, with the run they name: the job routes by that run and
 * validates after the shuffle ({@link MonitorFunction}), where a bad record becomes a dead letter
 * instead of an exception that would fail the source. The run is read from the payload, not the
 * Kafka key, so a producer that keys differently cannot split a run's state. Values in the
 * sidecar's binary form ({@link TelemetryBinary}) and JSON are both read.
 */
public final class RawTelemetryDeserializer
    implements KafkaRecordDeserializationSchema<RawTelemetry> {

  private static final long serialVersionUID = 1L;

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawTelemetry> out) {
    byte[] value = record.value() == null ? new byte[0] : record.value();
    String run =
        TelemetryBinary.isBinary(value)
            ? TelemetryBinary.peekRun(value)
            : TelemetryParser.DEFAULT.peekRun(value);
    out.collect(
        new RawTelemetry(run == null ? "" : run, value, record.partition(), record.offset()));
  }

  @Override
  public TypeInformation<RawTelemetry> getProducedType() {
    return TypeInformation.of(RawTelemetry.class);
  }
}
