package dev.trainwatch.alerts;

import dev.trainwatch.alerts.config.AlertsConfig;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka clients of the service. The consumer reads committed data only (the Flink job writes
 * alerts in transactions) and never auto-commits: offsets are committed by the dispatch loop once
 * the notifications they caused are settled. {@code kafka.properties} pass through and win over
 * these defaults.
 */
final class KafkaClients {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaClients.class);

  private KafkaClients() {}

  static KafkaConsumer<byte[], byte[]> consumer(AlertsConfig.Kafka k) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, k.bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, k.groupId());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
    // A crashed instance keeps its partitions until its session expires, and new alerts wait
    // that long (Kafka's default: 45 s). 10 s keeps the outage short at 3 heartbeats a session.
    p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
    p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "3000");
    p.putAll(k.properties());
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /**
   * Creates the dead-letter topic if it is missing (one partition, broker-default replication):
   * brokers often disable auto-creation, and a missing topic would stall every permanent failure.
   * Best effort: without rights to create topics, the service starts and the failure shows later.
   */
  static void ensureDeadLetterTopic(AlertsConfig.Kafka k) {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, k.bootstrapServers());
    k.properties()
        .forEach(
            (key, v) -> {
              if (AdminClientConfig.configNames().contains(key)) {
                p.put(key, v);
              }
            });
    Admin admin = Admin.create(p);
    try {
      if (!admin.listTopics().names().get(15, TimeUnit.SECONDS).contains(k.deadLetterTopic())) {
        admin
            .createTopics(
                List.of(new NewTopic(k.deadLetterTopic(), Optional.of(1), Optional.empty())))
            .all()
            .get(15, TimeUnit.SECONDS);
        LOG.info("created dead-letter topic {}", k.deadLetterTopic());
      }
    } catch (Exception e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        LOG.warn(
            "could not check or create dead-letter topic {}: {}",
            k.deadLetterTopic(),
            e.toString());
      }
    } finally {
      // close() without a timeout waits for the abandoned calls' own timeout (60 s) when the
      // broker is unreachable: a silent minute at start-up
      admin.close(Duration.ofSeconds(2));
    }
  }

  static KafkaProducer<String, byte[]> producer(AlertsConfig.Kafka k) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, k.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    k.properties()
        .forEach(
            (key, v) -> {
              if (!key.startsWith("group.")
                  && !key.startsWith("isolation.")
                  && !key.startsWith("auto.")) {
                p.put(key, v);
              }
            });
    return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
  }
}
