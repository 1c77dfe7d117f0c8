package dev.trainwatch.jobs.replay;

import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.embedded.PersistentKafka;
import dev.trainwatch.jobs.flink.JobConfig;
import dev.trainwatch.jobs.flink.TrainwatchJob;
import dev.trainwatch.jobs.storage.InfluxSinkConfig;
import dev.trainwatch.jobs.storage.StorageTopology;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.DeadLetter;
import dev.trainwatch.wire.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Replays recorded runs through the real path: an embedded KRaft Kafka broker, the trace lines
 * produced to the telemetry topic, the detection job on a local Flink MiniCluster reading that
 * topic up to its end, and the committed alerts read back from the alerts topic. Returns when
 * everything produced has been processed and committed.
 */
public final class Replay {

  /** What a replay produced, with its timings. */
  public record Result(
      List<AlertEvent> alerts,
      List<DeadLetter> deadLetters,
      long recordsSent,
      long produceMillis,
      long jobMillis,
      long totalMillis) {}

  private Replay() {}

  public static Result run(List<Path> traces, int parallelism, Map<String, String> detectorSettings)
      throws Exception {
    long t0 = System.nanoTime();
    try (PersistentKafka kafka = PersistentKafka.startTemporary()) {
      return run(kafka.bootstrapServers(), traces, parallelism, detectorSettings, t0);
    }
  }

  /** Replays against any broker; the topics are created if absent. */
  public static Result run(
      String bootstrap,
      List<Path> traces,
      int parallelism,
      Map<String, String> detectorSettings,
      long t0)
      throws Exception {
    return run(bootstrap, traces, parallelism, detectorSettings, t0, null);
  }

  /**
   * As above; when {@code storage} is not null, telemetry and alerts are also stored in InfluxDB.
   */
  public static Result run(
      String bootstrap,
      List<Path> traces,
      int parallelism,
      Map<String, String> detectorSettings,
      long t0,
      InfluxSinkConfig storage)
      throws Exception {
    Map<String, String> conf = new HashMap<>();
    conf.put("kafka.bootstrap.servers", bootstrap);
    conf.put("job.parallelism", String.valueOf(parallelism));
    conf.put("checkpoint.interval.ms", "1000");
    conf.put("source.starting-offsets", "earliest");
    conf.put("job.name", "trainwatch-replay");
    // a bounded one-off job: its checkpoints go to a temporary directory, not the user's
    // ~/.trainwatch
    conf.put(
        "checkpoint.dir",
        Path.of(System.getProperty("java.io.tmpdir"), "trainwatch-replay-checkpoints").toString());
    // a bounded replay reads from the earliest offset every time: no consumer-group offsets needed
    conf.put("kafka.consumer.commit.offsets.on.checkpoint", "false");
    detectorSettings.forEach((k, v) -> conf.put("detector." + k, v));
    JobConfig config = JobConfig.of(conf);
    Topics topics = config.topics();
    EmbeddedKafka.createTopics(
        bootstrap,
        Map.of(
            topics.telemetry(), 4, topics.alerts(), 4, topics.deadLetter(), 1, topics.metrics(), 4),
        Map.of());

    long tProduce = System.nanoTime();
    long sent = TraceProducer.produce(bootstrap, topics.telemetry(), traces);
    long tJob = System.nanoTime();

    StreamExecutionEnvironment env = localEnvironment(parallelism);
    TrainwatchJob.configure(env, config);
    TrainwatchJob.fromConfig(config, true)
        .build(
            env,
            (records, alerts, metrics) -> {
              if (storage != null) {
                StorageTopology.attach(records, alerts, metrics, storage);
              }
            });
    env.execute("trainwatch-replay");
    long tRead = System.nanoTime();

    List<AlertEvent> alerts =
        TopicReader.readAll(bootstrap, topics.alerts(), Duration.ofMinutes(1)).stream()
            .map(AlertJson::parse)
            .toList();
    List<DeadLetter> dead =
        TopicReader.readAll(bootstrap, topics.deadLetter(), Duration.ofMinutes(1)).stream()
            .map(DeadLetter::fromJson)
            .toList();
    long end = System.nanoTime();
    return new Result(
        alerts,
        dead,
        sent,
        (tJob - tProduce) / 1_000_000,
        (tRead - tJob) / 1_000_000,
        (end - t0) / 1_000_000);
  }

  /** A local MiniCluster environment on loopback that fails fast instead of restarting forever. */
  public static StreamExecutionEnvironment localEnvironment(int parallelism) {
    Configuration c = TrainwatchJob.loopback();
    c.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
    return StreamExecutionEnvironment.createLocalEnvironment(parallelism, c);
  }
}
