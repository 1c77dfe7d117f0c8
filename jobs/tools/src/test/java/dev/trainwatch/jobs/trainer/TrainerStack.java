package dev.trainwatch.jobs.trainer;

import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.ingest.Ingest;
import dev.trainwatch.ingest.config.IngestConfig;
import dev.trainwatch.jobs.flink.JobConfig;
import dev.trainwatch.jobs.flink.TrainwatchJob;
import java.io.File;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Assumptions;

/**
 * What a training process talks to on one machine, each part real: the embedded KRaft broker, the
 * detection job ({@code TrainwatchJob.fromConfig}, Kafka in and out, on a local Flink runtime) and
 * the sidecar (HTTP intake and {@code GET /v1/runs/{run}/alerts}).
 */
final class TrainerStack implements AutoCloseable {

  final EmbeddedKafka kafka;
  final JobClient job;
  final Ingest sidecar;

  /**
   * {@code guarantee}: the job's alerts.delivery-guarantee; exactly-once alerts appear at each
   * checkpoint.
   */
  TrainerStack(Path dir, String guarantee, long checkpointMs) throws Exception {
    kafka = EmbeddedKafka.start();
    Map<String, String> c = new HashMap<>();
    c.put("kafka.bootstrap.servers", kafka.bootstrapServers());
    c.put("job.name", "trainer-" + System.nanoTime());
    c.put("job.parallelism", "1");
    c.put("checkpoint.interval.ms", String.valueOf(checkpointMs));
    c.put("checkpoint.dir", dir.resolve("checkpoints").toString());
    c.put("source.starting-offsets", "earliest");
    c.put("alerts.delivery-guarantee", guarantee);
    JobConfig config = JobConfig.of(c);
    kafka.createTopics(config.topicPartitions());
    StreamExecutionEnvironment env = TrainwatchJob.localEnvironment(config);
    TrainwatchJob.configure(env, config);
    TrainwatchJob.fromConfig(config, false).build(env);
    job = env.executeAsync("trainer-alerts");
    sidecar =
        Ingest.start(
            IngestConfig.of(
                Map.of(
                    "http.port",
                    "0",
                    "spool.dir",
                    dir.resolve("spool").toString(),
                    "kafka.bootstrap.servers",
                    kafka.bootstrapServers())),
            null);
  }

  String url() {
    return sidecar.httpUrl();
  }

  /** The project's test venv (bin/pyenv); skips the test without it, fails it under CI. */
  static String venvPython() {
    String python = System.getenv("TRAINWATCH_PYTHON");
    boolean present = python != null && !python.isBlank() && new File(python).canExecute();
    if (!present && "true".equals(System.getenv("CI"))) {
      throw new AssertionError(
          "TRAINWATCH_PYTHON is not set (got " + python + "): run the tests through bin/test");
    }
    Assumptions.assumeTrue(
        present, "TRAINWATCH_PYTHON not set: export TRAINWATCH_PYTHON=$(bin/pyenv)/bin/python");
    return python;
  }

  static Path pythonDir() {
    return Path.of(System.getProperty("trainwatch.ingest.python", "../../ingest/python"))
        .toAbsolutePath();
  }

  @Override
  public void close() throws Exception {
    sidecar.close();
    try {
      job.cancel().get();
    } catch (Exception e) {
      // already finished
    }
    kafka.close();
  }
}
