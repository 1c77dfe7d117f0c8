package dev.trainwatch.jobs.demo;

import dev.trainwatch.wire.TelemetryJson;
import dev.trainwatch.wire.TelemetryRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Trains the demo runs side by side, as concurrent training jobs would, and publishes each
 * step's telemetry to Kafka keyed by run, paced to a total rate so the alerts appear live.
 */
public final class DemoPublisher {

  private DemoPublisher() {}

  /** Publishes every record of every run; returns the number published. */
  public static long publish(List<DemoRun> runs, String bootstrap, String topic, double recordsPerSecond)
      throws InterruptedException {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    long sent = 0;
    long start = System.nanoTime();
    List<DemoRun> live = new ArrayList<>(runs);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      while (!live.isEmpty()) {
        for (int i = live.size() - 1; i >= 0; i--) {
          DemoRun run = live.get(i);
          if (!run.hasNext()) {
            live.remove(i);
            continue;
          }
          TelemetryRecord r = run.next();
          producer.send(new ProducerRecord<>(topic, r.run().getBytes(StandardCharsets.UTF_8), TelemetryJson.toBytes(r)));
          sent++;
          long due = start + (long) (sent / recordsPerSecond * 1e9);
          long wait = due - System.nanoTime();
          if (wait > 1_000_000) {
            Thread.sleep(wait / 1_000_000);
          }
        }
      }
      producer.flush();
    }
    return sent;
  }
}
