package dev.trainwatch.jobs.cli;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.Status;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What the status line of {@code trainwatch up} reports: runs seen (distinct keys of the telemetry
 * topic, which are run ids), records per second accepted by the intake, and alerts firing
 * (committed alert events, latest state per run/detector/task). Reads both topics from the
 * beginning, without a consumer group, so it counts everything in the data directory.
 */
final class StackStatus implements Runnable {

  private final String bootstrap;
  private final String telemetryTopic;
  private final String alertsTopic;
  private final LongSupplier accepted;
  private final Set<String> runs = ConcurrentHashMap.newKeySet();
  private final Map<String, AlertEvent> firing = new ConcurrentHashMap<>();
  private volatile boolean stopped;
  private long lastAccepted;
  private long lastNanos = System.nanoTime();

  StackStatus(String bootstrap, String telemetryTopic, String alertsTopic, LongSupplier accepted) {
    this.bootstrap = bootstrap;
    this.telemetryTopic = telemetryTopic;
    this.alertsTopic = alertsTopic;
    this.accepted = accepted;
    this.lastAccepted = accepted.getAsLong();
  }

  void stop() {
    stopped = true;
  }

  /** One status line; records/s since the previous call. */
  synchronized String line() {
    long now = System.nanoTime();
    long acc = accepted.getAsLong();
    double rate = (acc - lastAccepted) / Math.max(1e-9, (now - lastNanos) / 1e9);
    lastAccepted = acc;
    lastNanos = now;
    return String.format(
        Locale.ROOT,
        "status: %d runs seen, %.1f records/s, %d alerts firing",
        runs.size(),
        rate,
        firing.size());
  }

  @Override
  public void run() {
    Map<String, Object> p =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            "false");
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      Set<TopicPartition> parts = new HashSet<>();
      for (String t : List.of(telemetryTopic, alertsTopic)) {
        c.partitionsFor(t, Duration.ofSeconds(30))
            .forEach(i -> parts.add(new TopicPartition(t, i.partition())));
      }
      c.assign(parts);
      c.seekToBeginning(parts);
      while (!stopped) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
          if (r.topic().equals(telemetryTopic)) {
            if (r.key() != null) {
              runs.add(new String(r.key(), StandardCharsets.UTF_8));
            }
          } else {
            try {
              AlertEvent a = AlertJson.parse(r.value());
              String id =
                  a.run() + "/" + a.family().wire() + "/" + a.detector() + "/" + a.affectedTask();
              if (a.status() == Status.FIRING) {
                firing.put(id, a);
              } else {
                firing.remove(id);
              }
            } catch (RuntimeException malformed) {
              // not ours to judge: the alerts service dead-letters it
            }
          }
        }
      }
    } catch (InterruptException e) {
      // stopping
    }
  }
}
