package dev.trainwatch.jobs.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.jobs.replay.TopicReader;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.DeadLetter;
import dev.trainwatch.wire.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobStatus;
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
 * Issue 14 rows 1 and 2 on the path of {@code trainwatch run} (its local environment, the job from
 * its configuration, embedded Kafka): 100,000 runs, a record whose run name used to make every
 * checkpoint fail, and a run that must alert. Before: no checkpoint storage (Flink's 5 MiB
 * JobManager limit), the poison record accepted, checkpoints failing forever, the victim's alert
 * never committed. Now: checkpoints land under {@code checkpoint.dir}, larger than 5 MiB, the
 * poison record is a dead letter naming the limit, and the victim's alert is committed.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class CheckpointScaleIT {

  static final int RUNS = 100_000;

  @TempDir Path dir;

  @Test
  void aHundredThousandRunsCheckpointDurablyAndAPoisonRecordIsDeadLettered() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      Path checkpoints = dir.resolve("checkpoints");
      JobConfig config =
          JobConfig.of(
              Map.of(
                  "kafka.bootstrap.servers",
                  kafka.bootstrapServers(),
                  "checkpoint.interval.ms",
                  "2000",
                  "source.starting-offsets",
                  "earliest",
                  "job.name",
                  "scale",
                  "checkpoint.dir",
                  checkpoints.toString()));
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
      produce(kafka.bootstrapServers(), topics.telemetry());

      StreamExecutionEnvironment env = TrainwatchJob.localEnvironment(config);
      TrainwatchJob.configure(env, config);
      TrainwatchJob.fromConfig(config, false).build(env);
      JobClient job = env.executeAsync("scale");
      try {
        AlertEvent alert = awaitAlert(kafka.bootstrapServers(), topics.alerts(), "victim");
        assertThat(alert.detector()).isEqualTo("non_finite");
        List<DeadLetter> dead =
            TopicReader.readAll(
                    kafka.bootstrapServers(), topics.deadLetter(), Duration.ofMinutes(1))
                .stream()
                .map(DeadLetter::fromJson)
                .toList();
        assertThat(dead)
            .singleElement()
            .extracting(DeadLetter::reason)
            .isEqualTo("field 'run': 65536 characters exceed the limit of 256");

        // a completed checkpoint holding all 100,000 runs: more than the JobManager's 5 MiB
        Path jobDir = checkpoints.resolve(job.getJobID().toString());
        long bytes = awaitCheckpointLargerThan(jobDir, 5L << 20);
        System.out.printf(Locale.ROOT, "checkpoint of %,d runs: %,d bytes%n", RUNS, bytes);
        assertThat(job.getJobStatus().get()).isEqualTo(JobStatus.RUNNING);
      } finally {
        job.cancel().get();
      }
    }
  }

  private static void produce(String bootstrap, String topic) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "1048576");
    try (var producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < RUNS; i++) {
        String run = "run-" + i;
        send(
            producer,
            topic,
            run,
            "{\"run\":\"" + run + "\",\"step\":0,\"metrics\":{\"loss\":2.3,\"grad_norm\":1.0}}");
      }
      String poison = "r".repeat(65_536);
      send(
          producer,
          topic,
          "poison",
          "{\"run\":\"" + poison + "\",\"step\":1,\"metrics\":{\"loss\":1}}");
      for (int s = 0; s < 10; s++) {
        send(
            producer,
            topic,
            "victim",
            "{\"run\":\"victim\",\"step\":"
                + s
                + ",\"metrics\":{\"loss\":"
                + (s < 8 ? "2.0" : "\"NaN\"")
                + "}}");
      }
      producer.flush();
    }
  }

  private static void send(
      KafkaProducer<byte[], byte[]> p, String topic, String key, String value) {
    p.send(
        new ProducerRecord<>(
            topic, key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8)));
  }

  private static AlertEvent awaitAlert(String bootstrap, String topic, String run)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
    while (System.nanoTime() < deadline) {
      Optional<AlertEvent> a =
          TopicReader.readAll(bootstrap, topic, Duration.ofSeconds(30)).stream()
              .map(AlertJson::parse)
              .filter(e -> e.run().equals(run))
              .findFirst();
      if (a.isPresent()) {
        return a.get();
      }
      Thread.sleep(1000);
    }
    throw new AssertionError("no committed alert for " + run);
  }

  /**
   * The size of the newest completed checkpoint (one with its _metadata) once it exceeds {@code
   * min}.
   */
  private static long awaitCheckpointLargerThan(Path jobDir, long min) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    long last = 0;
    while (System.nanoTime() < deadline) {
      if (Files.isDirectory(jobDir)) {
        try (Stream<Path> chks = Files.list(jobDir)) {
          for (Path chk :
              chks.filter(p -> p.getFileName().toString().startsWith("chk-")).toList()) {
            if (Files.exists(chk.resolve("_metadata"))) {
              last = Math.max(last, size(chk));
            }
          }
        } catch (UncheckedIOException | NoSuchFileException e) {
          // a checkpoint being discarded as we list it
        }
        if (last > min) {
          return last;
        }
      }
      Thread.sleep(500);
    }
    throw new AssertionError(
        "no completed checkpoint above " + min + " bytes under " + jobDir + "; largest " + last);
  }

  private static long size(Path chk) throws IOException {
    try (Stream<Path> files = Files.walk(chk)) {
      return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    }
  }
}
