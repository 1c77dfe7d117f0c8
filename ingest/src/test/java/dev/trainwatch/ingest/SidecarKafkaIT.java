package dev.trainwatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.ingest.config.IngestConfig;
import dev.trainwatch.wire.DeadLetter;
import dev.trainwatch.wire.Golden;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryBinary;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The sidecar against a real (embedded) broker: keyed delivery, dead letters, broker restart. */
@Timeout(180)
class SidecarKafkaIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static EmbeddedKafka kafka;
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  @TempDir Path spool;

  @BeforeAll
  static void startKafka() throws Exception {
    kafka = EmbeddedKafka.start();
    KafkaFixture.createTopics(kafka);
  }

  @AfterAll
  static void stopKafka() throws Exception {
    kafka.close();
  }

  private Ingest start(Map<String, String> extra, InputStream stdin) throws Exception {
    Map<String, String> c =
        new HashMap<>(
            Map.of(
                "http.port",
                "0",
                "spool.dir",
                spool.toString(),
                "kafka.bootstrap.servers",
                kafka.bootstrapServers(),
                "kafka.producer.delivery.timeout.ms",
                "4000",
                "kafka.producer.request.timeout.ms",
                "1500",
                "kafka.probe.interval.ms",
                "300"));
    c.putAll(extra);
    return Ingest.start(IngestConfig.of(c), stdin);
  }

  private int post(String url, String body) throws Exception {
    return client
        .send(
            HttpRequest.newBuilder(URI.create(url + "/v1/records"))
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  private static String run(ConsumerRecord<String, byte[]> r) {
    return r.key();
  }

  @Test
  void deliversValidRecordsKeyedByRunAndInvalidOnesToTheDeadLetterTopic() throws Exception {
    List<String> valid = Golden.validTelemetry();
    String body = String.join("\n", valid) + "\n" + Golden.invalidTelemetry().get(0).line();
    try (Ingest ingest = start(Map.of(), null)) {
      assertThat(post(ingest.httpUrl(), body)).isEqualTo(400);
    }
    Set<String> runs = new TreeSet<>();
    for (String v : valid) {
      runs.add(JSON.readTree(v).get("run").asText());
    }
    var tel =
        KafkaFixture.readUntil(
                kafka.bootstrapServers(),
                KafkaFixture.TELEMETRY,
                l -> l.stream().filter(r -> runs.contains(r.key())).count() >= valid.size(),
                Duration.ofSeconds(30))
            .stream()
            .filter(r -> runs.contains(r.key()))
            .toList();
    assertThat(tel).hasSize(valid.size());
    for (var r : tel) {
      // the validated record in the internal topic's binary form (topic.binary, on by default)
      assertThat(TelemetryBinary.isBinary(r.value())).isTrue();
      assertThat(r.key()).isEqualTo(record(r.value()).run());
    }
    var dead =
        KafkaFixture.readUntil(
            kafka.bootstrapServers(),
            KafkaFixture.DEAD_LETTER,
            l -> !l.isEmpty(),
            Duration.ofSeconds(30));
    DeadLetter dl = DeadLetter.fromJson(dead.get(0).value());
    assertThat(dl.reason()).contains(Golden.invalidTelemetry().get(0).expectedReason());
  }

  @Test
  void readsStandardInputToTheEnd() throws Exception {
    String lines = "{\"run\":\"stdin-run\",\"step\":1}\n{\"run\":\"stdin-run\",\"step\":2}";
    try (Ingest ingest =
        start(
            Map.of("http.port", "-1", "stdin", "true"),
            new ByteArrayInputStream(lines.getBytes(StandardCharsets.UTF_8)))) {
      ingest.awaitStdin();
    }
    var tel =
        KafkaFixture.readUntil(
            kafka.bootstrapServers(),
            KafkaFixture.TELEMETRY,
            l -> l.stream().filter(r -> "stdin-run".equals(r.key())).count() >= 2,
            Duration.ofSeconds(30));
    assertThat(tel.stream().filter(r -> "stdin-run".equals(r.key()))).hasSize(2);
  }

  @Test
  void tailsAFileAcrossASidecarRestartWithoutLossOrDuplicates() throws Exception {
    Path file = spool.resolve("telemetry.jsonl");
    Map<String, String> tail =
        Map.of("http.port", "-1", "tail.file", file.toString(), "tail.poll.ms", "20");
    appendSteps(file, 0, 500);
    try (Ingest ingest = start(tail, null)) {
      awaitSent(ingest, 500);
    }
    appendSteps(file, 500, 800);
    try (Ingest ingest = start(tail, null)) {
      awaitSent(ingest, 300);
    }
    var tel =
        KafkaFixture.readUntil(
            kafka.bootstrapServers(),
            KafkaFixture.TELEMETRY,
            l -> l.stream().filter(r -> "tail-run".equals(r.key())).count() >= 800,
            Duration.ofSeconds(30));
    assertThat(
            tel.stream().filter(r -> "tail-run".equals(r.key())).map(SidecarKafkaIT::step).toList())
        .hasSize(800)
        .isSorted()
        .doesNotHaveDuplicates();
  }

  private static void appendSteps(Path file, int from, int to) throws Exception {
    StringBuilder b = new StringBuilder();
    for (int i = from; i < to; i++) {
      b.append("{\"run\":\"tail-run\",\"step\":").append(i).append("}\n");
    }
    Files.writeString(file, b, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private static void awaitSent(Ingest ingest, long n) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (ingest.metrics().sent.getLongValue() < n && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(ingest.metrics().sent.getLongValue()).isEqualTo(n);
  }

  @Test
  void losesNoRecordAcrossABrokerRestart() throws Exception {
    int runs = 3;
    int perBatch = 50;
    int batches = 60;
    Map<String, List<Long>> sentByRun = new LinkedHashMap<>();
    try (Ingest ingest = start(Map.of(), null)) {
      long step = 0;
      for (int b = 0; b < batches; b++) {
        if (b == 15) {
          kafka.stopBroker();
        }
        if (b == 40) {
          assertThat(ingest.kafkaDown()).as("the sidecar noticed the broker is gone").isTrue();
          kafka.startBroker();
        }
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < perBatch; i++, step++) {
          String run = "restart-" + (step % runs);
          sentByRun.computeIfAbsent(run, k -> new ArrayList<>()).add(step);
          body.append("{\"run\":\"").append(run).append("\",\"step\":").append(step).append("}\n");
        }
        assertThat(post(ingest.httpUrl(), body.toString())).isEqualTo(202);
        Thread.sleep(b >= 15 && b < 40 ? 250 : 20);
      }
      long total = step;
      var tel =
          KafkaFixture.readUntil(
              kafka.bootstrapServers(),
              KafkaFixture.TELEMETRY,
              l -> distinctSteps(l).size() >= total,
              Duration.ofSeconds(90));
      assertThat(distinctSteps(tel)).as("every step reached Kafka").hasSize((int) total);
      assertThat(ingest.metrics().spooled.getLongValue())
          .as("records went through the spool")
          .isPositive();
      for (var e : sentByRun.entrySet()) {
        List<Long> firstSeen =
            new ArrayList<>(
                new LinkedHashSet<>(
                    tel.stream()
                        .filter(r -> e.getKey().equals(run(r)))
                        .map(SidecarKafkaIT::step)
                        .toList()));
        assertThat(firstSeen).as("per-run order of " + e.getKey()).isSorted();
      }
    }
  }

  private static long step(ConsumerRecord<String, byte[]> r) {
    try {
      return record(r.value()).step();
    } catch (RuntimeException e) {
      throw new IllegalStateException("not a telemetry record: " + r, e);
    }
  }

  /** A telemetry topic value, in the sidecar's binary form or JSON. */
  private static TelemetryRecord record(byte[] value) {
    return ((ParseResult.Parsed) TelemetryBinary.parseEither(value)).record();
  }

  private static Set<Long> distinctSteps(List<ConsumerRecord<String, byte[]>> l) {
    Set<Long> s = new TreeSet<>();
    l.stream().filter(r -> r.key().startsWith("restart-")).forEach(r -> s.add(step(r)));
    return s;
  }
}
