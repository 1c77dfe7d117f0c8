package dev.trainwatch.jobs.flink;

import dev.trainwatch.wire.DeadLetter;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Dead letters to Kafka as JSON, keyed by the run when the bad record named one. */
final class DeadLetterRecordSerializer implements KafkaRecordSerializationSchema<DeadLetter> {

  private static final long serialVersionUID = 1L;
  private final String topic;

  DeadLetterRecordSerializer(String topic) {
    this.topic = topic;
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(DeadLetter d, KafkaSinkContext ctx, Long ts) {
    byte[] key = d.run() == null ? null : d.run().getBytes(StandardCharsets.UTF_8);
    return new ProducerRecord<>(topic, key, d.toJson());
  }
}
