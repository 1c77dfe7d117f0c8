package dev.trainwatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.ingest.config.IngestConfig;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Severity;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /v1/runs/{run}/alerts} of the real sidecar, fed from a real alerts topic: a long poll
 * wakes on the run's next committed alert, an alert of an aborted transaction never shows, and the
 * Python client's {@code Monitor.on_alert} receives what the topic carries.
 */
@Timeout(180)
class SidecarAlertsIT {

  private static final String ALERTS = "trainwatch.alerts";
  private static final Path PYTHON_DIR =
      Path.of(System.getProperty("trainwatch.ingest.python", "python"));
  private static EmbeddedKafka kafka;
  @TempDir Path tmp;

  @BeforeAll
  static void startKafka() throws Exception {
    kafka = EmbeddedKafka.start();
    KafkaFixture.createTopics(kafka);
    kafka.createTopics(Map.of(ALERTS, 2));
  }

  @AfterAll
  static void stopKafka() throws Exception {
    kafka.close();
  }

  private Ingest sidecar() throws Exception {
    return Ingest.start(
        IngestConfig.of(
            Map.of(
                "http.port",
                "0",
                "spool.dir",
                tmp.resolve("spool").toString(),
                "kafka.bootstrap.servers",
                kafka.bootstrapServers())),
        null);
  }

  private static KafkaProducer<String, byte[]> producer(String txId) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txId);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p);
    producer.initTransactions();
    return producer;
  }

  private static void send(KafkaProducer<String, byte[]> p, AlertEvent a, boolean commit) {
    p.beginTransaction();
    p.send(new ProducerRecord<>(ALERTS, a.run(), AlertJson.toBytes(a)));
    if (commit) {
      p.commitTransaction();
    } else {
      p.flush();
      p.abortTransaction();
    }
  }

  private static String get(HttpClient http, String url) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  private static String cursor(String body) {
    Matcher m = Pattern.compile("\"cursor\":\"([^\"]+)\"").matcher(body);
    assertThat(m.find()).as(body).isTrue();
    return m.group(1);
  }

  @Test
  void aLongPollWakesOnTheRunsNextCommittedAlertOnly() throws Exception {
    try (Ingest ingest = sidecar();
        KafkaProducer<String, byte[]> p = producer("it-alerts-1")) {
      HttpClient http = HttpClient.newHttpClient();
      String base = ingest.httpUrl() + "/v1/runs/run-a/alerts";
      String first = get(http, base);
      assertThat(first).contains("\"active\":[]").contains("\"events\":[]");
      Thread.sleep(1500); // the feed has assigned its partitions
      CompletableFuture<String> poll =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return get(http, base + "?wait_ms=15000&after=" + cursor(first));
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });
      Thread.sleep(300);
      send(
          p,
          AlertEvent.firing(
              "run-a",
              Family.INSTABILITY,
              "aborted",
              Severity.CRITICAL,
              5,
              1,
              "s",
              "r",
              Map.of(),
              null),
          false);
      send(
          p,
          AlertEvent.firing(
              "run-b",
              Family.INSTABILITY,
              "other_run",
              Severity.CRITICAL,
              5,
              1,
              "s",
              "r",
              Map.of(),
              null),
          true);
      Thread.sleep(1000);
      assertThat(poll).as("neither an aborted alert nor another run's wakes the poll").isNotDone();
      long t0 = System.nanoTime();
      send(
          p,
          AlertEvent.firing(
              "run-a",
              Family.INSTABILITY,
              "non_finite",
              Severity.CRITICAL,
              30,
              1,
              "nan",
              "fix",
              Map.of("metric", "loss"),
              null),
          true);
      String body = poll.get(10, TimeUnit.SECONDS);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(body)
          .contains("\"detector\":\"non_finite\"")
          .doesNotContain("aborted")
          .doesNotContain("other_run");
      assertThat(ms).as("woken by the alert, not by the 15 s wait").isLessThan(8_000);
      String again = get(http, base + "?wait_ms=0&after=" + cursor(body));
      assertThat(again)
          .contains("\"events\":[]")
          .contains("\"detector\":\"non_finite\""); // still active
    }
  }

  @Test
  void thePythonClientReceivesItsRunsAlerts() throws Exception {
    try (Ingest ingest = sidecar();
        KafkaProducer<String, byte[]> p = producer("it-alerts-2")) {
      Path script = tmp.resolve("alerts.py");
      Files.writeString(
          script,
          String.join(
              "\n",
              "import sys, threading, time",
              "sys.path.insert(0, sys.argv[2])",
              "from trainwatch import Monitor",
              "got = threading.Event(); seen = []",
              "def cb(a):",
              "    seen.append(a)",
              "    if a.status == 'resolved': got.set()",
              "with Monitor('py-run', url=sys.argv[1]) as mon:",
              "    mon.on_alert(cb)",
              "    print('polling', flush=True)",
              "    assert got.wait(60), seen",
              "    print('seen', [(a.detector, a.status, a.step) for a in seen], 'active', mon.alerts(), flush=True)",
              ""));
      Process py =
          new ProcessBuilder(
                  "python3",
                  script.toString(),
                  ingest.httpUrl(),
                  PYTHON_DIR.toAbsolutePath().toString())
              .redirectErrorStream(true)
              .start();
      var out =
          new BufferedReader(new InputStreamReader(py.getInputStream(), StandardCharsets.UTF_8));
      assertThat(out.readLine()).isEqualTo("polling");
      Thread.sleep(1500);
      AlertEvent nan =
          AlertEvent.firing(
              "py-run",
              Family.INSTABILITY,
              "non_finite",
              Severity.CRITICAL,
              30,
              1,
              "nan",
              "fix",
              Map.of(),
              null);
      send(p, nan, true);
      Thread.sleep(500);
      send(p, nan.resolve(80, 2, "finite", Map.of()), true);
      assertThat(py.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String rest = new String(py.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String line = out.readLine() + rest;
      assertThat(py.exitValue()).as(line).isZero();
      assertThat(line)
          .contains(
              "seen [('non_finite', 'firing', 30), ('non_finite', 'resolved', 80)] active []");
    }
  }
}
