package dev.trainwatch.ingest.alerts;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the alerts topic into {@link RunAlerts}: every partition, no consumer group (each sidecar
 * sees every run's alerts and commits nothing), {@code read_committed} so an alert the job's
 * aborted transaction wrote never reaches a trainer, starting {@code lookback} back in time so the
 * active alerts of runs already going are known. A topic that does not exist yet is looked for
 * again every {@value #TOPIC_RETRY_MS} ms (said once); an event that does not parse is counted and
 * skipped (said once).
 */
public final class AlertsFollower implements Runnable, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(AlertsFollower.class);
  static final long TOPIC_RETRY_MS = 2000;

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final String topic;
  private final long lookbackMs;
  private final RunAlerts alerts;
  private volatile boolean stop;
  private volatile long events;
  private volatile long invalid;

  public AlertsFollower(
      Map<String, String> kafka, String topic, long lookbackMs, RunAlerts alerts) {
    Properties p = new Properties();
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "trainwatch-ingest-alerts");
    p.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
    p.putAll(kafka);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    this.consumer = new KafkaConsumer<>(p);
    this.topic = topic;
    this.lookbackMs = lookbackMs;
    this.alerts = alerts;
  }

  @Override
  public void run() {
    try {
      assign();
      while (!stop) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          accept(r.value());
        }
      }
    } catch (WakeupException e) {
      // close() woke us
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.error(
          "alerts feed stopped: {}; GET /v1/runs/{{run}}/alerts answers no new alert",
          e.toString(),
          e);
    } finally {
      consumer.close(Duration.ofSeconds(1));
    }
  }

  private void assign() throws InterruptedException {
    boolean said = false;
    while (!stop) {
      List<PartitionInfo> parts;
      try {
        parts = consumer.partitionsFor(topic, Duration.ofSeconds(5));
      } catch (TimeoutException e) {
        parts = List.of();
      }
      if (parts != null && !parts.isEmpty()) {
        List<TopicPartition> tps = new ArrayList<>();
        Map<TopicPartition, Long> since = new HashMap<>();
        long from = System.currentTimeMillis() - lookbackMs;
        for (PartitionInfo pi : parts) {
          TopicPartition tp = new TopicPartition(pi.topic(), pi.partition());
          tps.add(tp);
          since.put(tp, from);
        }
        consumer.assign(tps);
        Map<TopicPartition, OffsetAndTimestamp> at = consumer.offsetsForTimes(since);
        Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
        for (TopicPartition tp : tps) {
          OffsetAndTimestamp o = at.get(tp);
          consumer.seek(tp, o != null ? o.offset() : ends.get(tp));
        }
        LOG.info(
            "alerts feed: reading {} ({} partitions) from {} ms back",
            topic,
            tps.size(),
            lookbackMs);
        return;
      }
      if (!said) {
        said = true;
        LOG.warn(
            "alerts feed: topic {} not found yet; looking again every {} ms",
            topic,
            TOPIC_RETRY_MS);
      }
      Thread.sleep(TOPIC_RETRY_MS);
    }
  }

  void accept(byte[] value) {
    AlertEvent a;
    try {
      a = AlertJson.parse(value);
    } catch (RuntimeException e) {
      if (invalid++ == 0) {
        LOG.warn(
            "alerts feed: skipping an alert event that does not parse ({}); further ones are only counted",
            e.getMessage());
      }
      return;
    }
    events++;
    alerts.add(a, new String(value, StandardCharsets.UTF_8));
  }

  public long events() {
    return events;
  }

  public long invalid() {
    return invalid;
  }

  @Override
  public void close() {
    stop = true;
    consumer.wakeup();
  }
}
