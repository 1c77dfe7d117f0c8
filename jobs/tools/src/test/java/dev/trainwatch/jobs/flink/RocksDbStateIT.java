package dev.trainwatch.jobs.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.jobs.replay.TopicReader;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code state.backend=rocksdb} on the path of {@code trainwatch run} (its local environment and
 * configuration, embedded Kafka): the job checkpoints its run state into RocksDB's incremental
 * files, and a new job restored from that checkpoint carries on with it. The proof of the round
 * trip is an alert: the victim's non_finite alert fires before the restore, and only a monitor that
 * came back knowing it fires can resolve it after 50 finite records (a fresh one stays silent).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class RocksDbStateIT {

  @TempDir Path dir;

  @Test
  void runStateSurvivesACheckpointAndRestoreInRocksDb() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      Path checkpoints = dir.resolve("checkpoints");
      JobConfig config =
          JobConfig.of(
              Map.of(
                  "kafka.bootstrap.servers",
                  kafka.bootstrapServers(),
                  "checkpoint.interval.ms",
                  "500",
                  "source.starting-offsets",
                  "earliest",
                  "job.name",
                  "rocks",
                  "checkpoint.dir",
                  checkpoints.toString(),
                  "state.backend",
                  "rocksdb"));
      Topics topics = config.topics();
      kafka.createTopics(
          Map.of(
              topics.telemetry(),
              2,
              topics.alerts(),
              1,
              topics.deadLetter(),
              1,
              topics.metrics(),
              1));
      try (KafkaProducer<byte[], byte[]> p = producer(kafka.bootstrapServers())) {
        for (int run = 0; run < 200; run++) { // state for more than one run in each instance
          for (int s = 0; s < 5; s++) {
            send(p, topics.telemetry(), "run-" + run, s, "2.0");
          }
        }
        for (int s = 0; s <= 10; s++) {
          send(p, topics.telemetry(), "victim", s, s < 10 ? "2.0" : "\"NaN\"");
        }
      }

      JobClient first = start(config, null);
      Path checkpoint;
      try {
        assertThat(awaitAlerts(kafka.bootstrapServers(), topics.alerts(), 1))
            .singleElement()
            .satisfies(a -> assertThat(a.status()).isEqualTo(Status.FIRING));
        // the alert is committed, so the checkpoint that holds its firing state is complete
        checkpoint = latestCheckpoint(checkpoints.resolve(first.getJobID().toString()));
      } finally {
        first.cancel().get();
      }
      // RocksDB's incremental checkpoints keep their files in shared/ (the heap backend writes none
      // there)
      try (Stream<Path> shared = Files.list(checkpoint.getParent().resolve("shared"))) {
        assertThat(shared.count()).as("RocksDB files in shared/").isPositive();
      }

      try (KafkaProducer<byte[], byte[]> p = producer(kafka.bootstrapServers())) {
        for (int s = 11; s <= 70; s++) {
          send(p, topics.telemetry(), "victim", s, "2.0");
        }
      }
      JobClient second = start(config, checkpoint);
      try {
        List<AlertEvent> alerts = awaitAlerts(kafka.bootstrapServers(), topics.alerts(), 2);
        assertThat(alerts)
            .extracting(AlertEvent::status)
            .containsExactly(Status.FIRING, Status.RESOLVED);
        assertThat(alerts).extracting(AlertEvent::run).containsOnly("victim");
        assertThat(alerts.get(1).step())
            .isEqualTo(10 + 50); // resolved after resolve_after = 50 finite steps
      } finally {
        second.cancel().get();
      }
    }
  }

  private static JobClient start(JobConfig config, Path restoreFrom) throws Exception {
    StreamExecutionEnvironment env = TrainwatchJob.localEnvironment(config);
    TrainwatchJob.configure(env, config);
    Configuration c = new Configuration();
    c.setString(
        "execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
    if (restoreFrom != null) {
      c.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom.toUri().toString());
    }
    env.configure(c);
    TrainwatchJob.fromConfig(config, false).build(env);
    return env.executeAsync("rocks");
  }

  private static List<AlertEvent> awaitAlerts(String bootstrap, String topic, int n)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    List<AlertEvent> alerts = List.of();
    while (System.nanoTime() < deadline) {
      alerts =
          TopicReader.readAll(bootstrap, topic, Duration.ofSeconds(30)).stream()
              .map(AlertJson::parse)
              .toList();
      if (alerts.size() >= n) {
        return alerts;
      }
      Thread.sleep(500);
    }
    throw new AssertionError("expected " + n + " committed alerts, got " + alerts);
  }

  /** The newest completed checkpoint (chk-N with its _metadata) of a job. */
  private static Path latestCheckpoint(Path jobDir) throws Exception {
    try (Stream<Path> chks = Files.list(jobDir)) {
      return chks.filter(
              p ->
                  p.getFileName().toString().startsWith("chk-")
                      && Files.exists(p.resolve("_metadata")))
          .max(
              Comparator.comparingInt(
                  p -> Integer.parseInt(p.getFileName().toString().substring(4))))
          .orElseThrow(() -> new AssertionError("no completed checkpoint under " + jobDir));
    }
  }

  private static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static void send(
      KafkaProducer<byte[], byte[]> p, String topic, String run, int step, String loss) {
    String json =
        "{\"run\":\"" + run + "\",\"step\":" + step + ",\"metrics\":{\"loss\":" + loss + "}}";
    p.send(
        new ProducerRecord<>(
            topic, run.getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8)));
  }
}
