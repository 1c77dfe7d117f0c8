package dev.trainwatch.jobs.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.OfflineEvaluation;
import dev.trainwatch.jobs.flink.JobConfig;
import dev.trainwatch.jobs.flink.TrainwatchJob;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.Topics;
import dev.trainwatch.wire.TraceFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.flink.configuration.Configuration;
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
 * Exactly-once on a real multi-process Flink cluster: the job jar is submitted to a session cluster
 * of one JobManager and two TaskManager JVMs, telemetry streams in, one TaskManager is killed
 * mid-stream, and the committed alerts must equal those of an uninterrupted run.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class FlinkClusterFailoverIT {

  static final Path TRACES =
      Path.of(System.getProperty("trainwatch.shared", "../../shared"), "eval", "traces");
  static final Path JOB_JAR = Path.of("..", "flink", "target", "trainwatch-jobs-flink.jar");

  @TempDir Path work;

  @Test
  void killingATaskManagerMidStreamLosesAndDuplicatesNoAlert() throws Exception {
    List<Path> traces =
        List.of(
            TRACES.resolve("sc-mlp-p97-lr5e-3-s3.jsonl.gz"),
            TRACES.resolve("lm-char-py-d128-w900-lr1.5e-1-s6.jsonl.gz"),
            TRACES.resolve("cl-digits-ci-replay-s1.jsonl.gz"),
            TRACES.resolve("mlp-digits-sgdr-s0.jsonl.gz"));
    List<String> expected =
        OfflineEvaluation.run(traces, DetectorConfig.DEFAULTS).alerts().stream()
            .map(AlertJson::toJson)
            .sorted()
            .toList();
    assertThat(expected).as("the reference run raises alerts").isNotEmpty();

    try (EmbeddedKafka kafka = EmbeddedKafka.start();
        LocalFlinkCluster cluster = new LocalFlinkCluster(work, 1)) {
      Topics topics = Topics.DEFAULT;
      kafka.createTopics(Map.of(topics.telemetry(), 4, topics.alerts(), 2, topics.deadLetter(), 1));
      cluster.start(2);

      JobConfig config =
          JobConfig.of(
              Map.of(
                  "kafka.bootstrap.servers",
                  kafka.bootstrapServers(),
                  "job.parallelism",
                  "2",
                  "checkpoint.interval.ms",
                  "1000",
                  "source.starting-offsets",
                  "earliest",
                  "job.name",
                  "trainwatch-failover"));
      StreamExecutionEnvironment env =
          StreamExecutionEnvironment.createRemoteEnvironment(
              "127.0.0.1", cluster.restPort(), new Configuration(), JOB_JAR.toString());
      TrainwatchJob.configure(env, config);
      TrainwatchJob.fromConfig(config, false).build(env);
      JobClient job = env.executeAsync("trainwatch-failover");

      AtomicLong produced = new AtomicLong();
      Thread producer =
          new Thread(
              () -> produceSlowly(kafka.bootstrapServers(), topics.telemetry(), traces, produced));
      producer.start();
      long total = 8000;
      awaitCondition(
          () -> produced.get() > total * 2 / 5 && completedCheckpoints(cluster) >= 1,
          Duration.ofSeconds(120));
      // One slot per TaskManager and parallelism 2: each TaskManager runs half the pipeline,
      // so killing one always hits running tasks. A replacement joins, as after a machine restart.
      cluster.killTaskManager(0);
      cluster.startTaskManager();
      producer.join(120_000);

      // two more checkpoints: nothing extra may be committed, 3 s after the last expected one
      List<String> actual =
          CommittedAlerts.await(
              kafka.bootstrapServers(),
              topics.alerts(),
              expected.size(),
              Duration.ofSeconds(150),
              Duration.ofSeconds(3));
      String exceptions = cluster.rest("/jobs/" + job.getJobID() + "/exceptions");
      job.cancel().get();
      assertThat(actual).isEqualTo(expected);
      // The job really failed over: the lost TaskManager left an entry in its exception history
      // (worded by whichever component noticed first: heartbeat, RPC or the network stack).
      assertThat(exceptions)
          .contains("\"entries\":[{")
          .containsPattern(
              "no longer reachable|RecipientUnreachable|closed by remote task manager|Lost connection");
    }
  }

  private static int completedCheckpoints(LocalFlinkCluster cluster) {
    try {
      String body = cluster.rest("/jobs/overview");
      String id = body.replaceAll("(?s).*\"jid\":\"([0-9a-f]+)\".*", "$1");
      String cp = cluster.rest("/jobs/" + id + "/checkpoints");
      String completed = cp.replaceAll("(?s).*\"completed\":(\\d+).*", "$1");
      return completed.matches("\\d+") ? Integer.parseInt(completed) : 0;
    } catch (Exception e) {
      return 0;
    }
  }

  /** ~500 records/s keyed by run, so the stream is still flowing when a TaskManager dies. */
  private static void produceSlowly(
      String bootstrap, String topic, List<Path> traces, AtomicLong produced) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    // Interleave runs round-robin as concurrent training jobs would.
    List<List<String>> perRun = new ArrayList<>();
    for (Path t : traces) {
      List<String> one = new ArrayList<>();
      TraceFiles.forEachLine(t, one::add);
      perRun.add(one);
    }
    long total = perRun.stream().mapToLong(List::size).sum();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; produced.get() < total; i++) {
        for (List<String> run : perRun) {
          if (i < run.size()) {
            String line = run.get(i);
            byte[] value = line.getBytes(StandardCharsets.UTF_8);
            byte[] key = TelemetryParser.DEFAULT.peekRun(value).getBytes(StandardCharsets.UTF_8);
            producer.send(new ProducerRecord<>(topic, key, value));
            produced.incrementAndGet();
          }
        }
        if (i % 50 == 0) {
          producer.flush();
          Thread.sleep(100);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void awaitCondition(BooleanSupplier c, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + timeout);
      }
      Thread.sleep(200);
    }
  }
}
