package dev.trainwatch.jobs.flink;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Alerts to Kafka as JSON, keyed by run so one run's alert history stays in order. */
final class AlertRecordSerializer implements KafkaRecordSerializationSchema<AlertEvent> {

  private static final long serialVersionUID = 1L;
  private final String topic;

  AlertRecordSerializer(String topic) {
    this.topic = topic;
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(AlertEvent a, KafkaSinkContext ctx, Long ts) {
    return new ProducerRecord<>(
        topic, a.run().getBytes(StandardCharsets.UTF_8), AlertJson.toBytes(a));
  }
}
