package dev.trainwatch.jobs.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.ingest.Ingest;
import dev.trainwatch.ingest.config.IngestConfig;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.OfflineEvaluation;
import dev.trainwatch.jobs.flink.JobConfig;
import dev.trainwatch.jobs.flink.TrainwatchJob;
import dev.trainwatch.jobs.replay.TopicReader;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryBinary;
import dev.trainwatch.wire.TelemetryRecord;
import dev.trainwatch.wire.Topics;
import dev.trainwatch.wire.TraceFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14 item 7: ingest and detection against a replicated Kafka cluster (3 brokers, KRaft,
 * replication factor 3, {@code min.insync.replicas} 2), one broker shut down mid-stream. The
 * sidecar acknowledges with {@code http.ack.durable.ms} (202 = in Kafka, acks=all, or in its
 * spool); every acknowledged record reaches the telemetry topic, and the exactly-once alerts equal
 * those of the uninterrupted, in-process reference.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class KafkaClusterIT {

  static final Path TRACES =
      Path.of(System.getProperty("trainwatch.shared", "../../shared"), "eval", "traces");
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dir;

  @Test
  void aBrokerLostMidStreamLosesNoAcknowledgedRecordAndChangesNoAlert() throws Exception {
    List<Path> traces =
        List.of(
            TRACES.resolve("sc-mlp-p97-lr5e-3-s3.jsonl.gz"),
            TRACES.resolve("lm-char-py-d128-w900-lr1.5e-1-s6.jsonl.gz"),
            TRACES.resolve("cl-digits-ci-replay-s1.jsonl.gz"));
    List<String> lines = new ArrayList<>();
    for (Path t : TraceFiles.resolve(traces)) {
      TraceFiles.forEachLine(t, lines::add);
    }
    OfflineEvaluation.Result reference = OfflineEvaluation.run(traces, DetectorConfig.DEFAULTS);
    List<String> expected = reference.alerts().stream().map(AlertJson::toJson).sorted().toList();
    assertThat(expected).isNotEmpty();

    try (EmbeddedKafka kafka = EmbeddedKafka.startCluster(3)) {
      JobConfig config =
          JobConfig.of(
              Map.of(
                  "kafka.bootstrap.servers",
                  kafka.bootstrapServers(),
                  "checkpoint.interval.ms",
                  "1000",
                  "source.starting-offsets",
                  "earliest",
                  "job.name",
                  "cluster",
                  "checkpoint.dir",
                  dir.resolve("checkpoints").toString()));
      Topics topics = config.topics();
      kafka.createTopics(
          Map.of(
              topics.telemetry(),
              4,
              topics.alerts(),
              2,
              topics.deadLetter(),
              1,
              topics.metrics(),
              1));
      StreamExecutionEnvironment env = TrainwatchJob.localEnvironment(config);
      TrainwatchJob.configure(env, config);
      TrainwatchJob.fromConfig(config, false).build(env);
      JobClient job = env.executeAsync("cluster");
      Set<String> acknowledged = new HashSet<>();
      try (Ingest sidecar =
          Ingest.start(
              IngestConfig.of(
                  Map.of(
                      "http.port",
                      "0",
                      "kafka.bootstrap.servers",
                      kafka.bootstrapServers(),
                      "spool.dir",
                      dir.resolve("spool").toString(),
                      "http.ack.durable.ms",
                      "20000",
                      "topic",
                      topics.telemetry(),
                      "dead.letter.topic",
                      topics.deadLetter())),
              null)) {
        int batch = 500;
        int killAt = lines.size() / 2 / batch * batch;
        for (int from = 0; from < lines.size(); from += batch) {
          if (from == killAt) {
            kafka.stopBroker(
                kafka.brokerIds().get(0)); // mid-stream: its partitions move to the others
          }
          List<String> part = lines.subList(from, Math.min(lines.size(), from + batch));
          int status;
          do {
            status = post(sidecar.httpUrl(), String.join("\n", part) + "\n");
          } while (status == 503); // "send them all again"
          assertThat(status).isEqualTo(202);
          for (String l : part) {
            acknowledged.add(key(l));
          }
        }
      }
      Set<String> delivered = new HashSet<>();
      for (byte[] v :
          TopicReader.readAll(
              kafka.bootstrapServers(), topics.telemetry(), Duration.ofMinutes(1))) {
        delivered.add(key(v));
      }
      assertThat(delivered)
          .as("every acknowledged record is in the replicated topic")
          .containsAll(acknowledged);

      // a duplicate would be committed by now, 3 s after the last expected one
      List<String> actual =
          CommittedAlerts.await(
              kafka.bootstrapServers(),
              topics.alerts(),
              expected.size(),
              Duration.ofMinutes(3),
              Duration.ofSeconds(3));
      job.cancel().get();
      System.out.printf(
          Locale.ROOT,
          "replicated cluster: %,d records acknowledged, %d alerts%n",
          acknowledged.size(),
          actual.size());
      assertThat(actual)
          .as("exactly-once alerts equal the uninterrupted reference")
          .isEqualTo(expected);
    }
  }

  private int post(String url, String body) throws Exception {
    return client
        .send(
            HttpRequest.newBuilder(URI.create(url + "/v1/records"))
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  /** The key of a telemetry topic value, in the sidecar's binary form or JSON. */
  private static String key(byte[] value) {
    TelemetryRecord r = ((ParseResult.Parsed) TelemetryBinary.parseEither(value)).record();
    return r.run() + "/" + r.step() + "/" + (r.event() == null ? "" : r.event());
  }

  private static String key(String line) {
    try {
      var n = JSON.readTree(line);
      return n.get("run").asText()
          + "/"
          + n.get("step").asLong()
          + "/"
          + n.path("event").asText("");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
