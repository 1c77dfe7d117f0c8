package dev.trainwatch.jobs.flink;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Passes Kafka values through unparsed: parsing happens in {@link ParseFunction}, where a
 * bad record becomes a dead letter instead of an exception that would fail the source.
 */
public final class RawTelemetryDeserializer implements KafkaRecordDeserializationSchema<RawTelemetry> {

  private static final long serialVersionUID = 1L;

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawTelemetry> out) {
    byte[] value = record.value() == null ? new byte[0] : record.value();
    out.collect(new RawTelemetry(value, record.topic() + "-" + record.partition() + "@" + record.offset()));
  }

  @Override
  public TypeInformation<RawTelemetry> getProducedType() {
    return TypeInformation.of(RawTelemetry.class);
  }
}
