package dev.trainwatch.jobs.replay;

import dev.trainwatch.wire.TelemetryParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes recorded traces to the telemetry topic exactly as a sidecar would: each line
 * as-is (malformed lines included, so the job dead-letters them), keyed by the run it names
 * so one run's records stay in order in one partition. Idempotent producer, acks=all.
 */
public final class TraceProducer {

  private TraceProducer() {}

  /** Produces every line of the traces; returns the number of lines sent. */
  public static long produce(String bootstrap, String topic, List<Path> traces) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    long[] sent = {0};
    AtomicReference<Exception> failure = new AtomicReference<>();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (Path file : TraceFiles.resolve(traces)) {
        TraceFiles.forEachLine(file, line -> {
          byte[] value = line.getBytes(StandardCharsets.UTF_8);
          producer.send(new ProducerRecord<>(topic, runKey(value), value), (md, e) -> {
            if (e != null) {
              failure.compareAndSet(null, e);
            }
          });
          sent[0]++;
        });
      }
      producer.flush();
    }
    if (failure.get() != null) {
      throw new IllegalStateException("producing traces failed: " + failure.get().getMessage(), failure.get());
    }
    return sent[0];
  }

  /** The run a line names, as the Kafka key; null (any partition) when the line is unreadable. */
  static byte[] runKey(byte[] value) {
    String run = TelemetryParser.DEFAULT.peekRun(value);
    return run == null ? null : run.getBytes(StandardCharsets.UTF_8);
  }
}
