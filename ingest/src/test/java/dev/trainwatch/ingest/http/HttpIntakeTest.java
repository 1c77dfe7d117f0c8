package dev.trainwatch.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.ingest.pipeline.IngestMetrics;
import dev.trainwatch.ingest.pipeline.Intake;
import dev.trainwatch.ingest.pipeline.Outgoing;
import dev.trainwatch.wire.DeadLetter;
import dev.trainwatch.wire.Golden;
import dev.trainwatch.wire.TelemetryParser;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class HttpIntakeTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private ArrayBlockingQueue<Outgoing> queue;
  private IngestMetrics metrics;
  private HttpIntake http;

  @BeforeEach
  void start() throws Exception {
    start(null, 1 << 20, 10_000);
  }

  private void start(String token, int maxBody, int capacity) throws Exception {
    start(token, maxBody, capacity, 0);
  }

  private void start(String token, int maxBody, int capacity, int durableAckMs) throws Exception {
    if (http != null) {
      http.close();
    }
    queue = new ArrayBlockingQueue<>(capacity);
    metrics = new IngestMetrics();
    Intake intake =
        new Intake(
            TelemetryParser.DEFAULT,
            queue,
            "tel",
            "dlq",
            metrics,
            InstantSource.fixed(Instant.ofEpochMilli(42)));
    http =
        new HttpIntake("127.0.0.1", 0, token, maxBody, durableAckMs, intake, metrics, () -> false);
  }

  @AfterEach
  void stop() {
    http.close();
  }

  private HttpResponse<String> post(String body, String auth) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(http.url() + "/v1/records"))
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (auth != null) {
      b.header("Authorization", auth);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private List<Outgoing> telemetry() {
    return queue.stream().filter(o -> o.topic().equals("tel")).toList();
  }

  @Test
  void durableAckWaitsForEveryRecordAndAsksForAllAgainWhenTheyDoNotGetThere() throws Exception {
    start(null, 1 << 20, 100, 300);
    String body = "{\"run\":\"r\",\"step\":1}\n{\"run\":\"r\",\"step\":2}\n";
    // nothing drains the queue: the records never become durable
    HttpResponse<String> stuck = post(body, null);
    assertThat(stuck.statusCode()).isEqualTo(503);
    assertThat(stuck.headers().firstValue("Retry-After")).hasValue("1");
    JsonNode answer = JSON.readTree(stuck.body());
    assertThat(answer.get("accepted").asInt()).as("send them all again").isZero();
    assertThat(answer.get("rejected").get(0).get("error").asText())
        .contains("2 records not yet in Kafka");

    // a forwarder that marks each record durable as it takes it
    queue.clear();
    Thread forwarder =
        new Thread(
            () -> {
              try {
                while (true) {
                  queue.take().ticket().done();
                }
              } catch (InterruptedException e) {
                // test over
              }
            });
    forwarder.setDaemon(true);
    forwarder.start();
    HttpResponse<String> ok = post(body + "{\"run\":\"r\",\"step\":-3}\n", null);
    forwarder.interrupt();
    assertThat(ok.statusCode()).as("the invalid line's dead letter counts too").isEqualTo(400);
    assertThat(JSON.readTree(ok.body()).get("accepted").asInt()).isEqualTo(2);
  }

  @Test
  void acceptsEveryGoldenLineAsJsonLinesKeyedByRun() throws Exception {
    List<String> valid = Golden.validTelemetry();
    HttpResponse<String> r = post(String.join("\n", valid) + "\n", null);
    assertThat(r.statusCode()).isEqualTo(202);
    assertThat(JSON.readTree(r.body()).get("accepted").asInt()).isEqualTo(valid.size());
    assertThat(telemetry()).hasSize(valid.size());
    Outgoing first = telemetry().get(0);
    assertThat(first.key()).isEqualTo(JSON.readTree(valid.get(0)).get("run").asText());
    assertThat(new String(first.value())).isEqualTo(valid.get(0));
  }

  @Test
  void acceptsOneRecordAndAJsonArray() throws Exception {
    assertThat(post("{\n  \"run\": \"a\",\n  \"step\": 1\n}", null).statusCode()).isEqualTo(202);
    HttpResponse<String> r = post("[{\"run\":\"a\",\"step\":2}, {\"run\":\"b\",\"step\":3}]", null);
    assertThat(r.statusCode()).isEqualTo(202);
    assertThat(telemetry()).extracting(Outgoing::key).containsExactly("a", "a", "b");
  }

  @Test
  void rejectsEachGoldenInvalidLineNamingLineAndFieldAndKeepsTheRest() throws Exception {
    List<Golden.InvalidLine> invalid = Golden.invalidTelemetry();
    StringBuilder body = new StringBuilder("{\"run\":\"ok\",\"step\":1}\n");
    invalid.forEach(l -> body.append(l.line()).append('\n'));
    body.append("{\"run\":\"ok\",\"step\":2}\n");
    HttpResponse<String> r = post(body.toString(), null);
    assertThat(r.statusCode()).isEqualTo(400);
    JsonNode n = JSON.readTree(r.body());
    assertThat(n.get("accepted").asInt()).isEqualTo(2);
    assertThat(n.get("rejected")).hasSize(invalid.size());
    for (int i = 0; i < invalid.size(); i++) {
      JsonNode e = n.get("rejected").get(i);
      assertThat(e.get("line").asInt()).isEqualTo(i + 2);
      assertThat(e.get("error").asText()).contains(invalid.get(i).expectedReason());
    }
    assertThat(telemetry()).hasSize(2);
    List<Outgoing> dead = queue.stream().filter(o -> o.topic().equals("dlq")).toList();
    assertThat(dead).hasSize(invalid.size());
    DeadLetter dl = DeadLetter.fromJson(dead.get(0).value());
    assertThat(dl.origin()).startsWith("http ");
    assertThat(dl.payload()).isEqualTo(invalid.get(0).line());
    assertThat(metrics.rejected.getLongValue()).isEqualTo(invalid.size());
  }

  @Test
  void requiresTheBearerTokenWhenOneIsSet() throws Exception {
    start("s3cret", 1 << 20, 100);
    assertThat(post("{\"run\":\"a\",\"step\":1}", null).statusCode()).isEqualTo(401);
    assertThat(post("{\"run\":\"a\",\"step\":1}", "Bearer wrong").statusCode()).isEqualTo(401);
    assertThat(post("{\"run\":\"a\",\"step\":1}", "Bearer s3cret").statusCode()).isEqualTo(202);
  }

  @Test
  void refusesBodiesOverTheLimit() throws Exception {
    start(null, 100, 100);
    HttpResponse<String> r =
        post("{\"run\":\"a\",\"step\":1,\"tags\":{\"x\":\"" + "y".repeat(200) + "\"}}", null);
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body()).contains("http.max.body.bytes");
  }

  @Test
  void answers503WhenTheQueueIsFull() throws Exception {
    start(null, 1 << 20, 2);
    HttpResponse<String> r =
        post(
            "{\"run\":\"a\",\"step\":1}\n{\"run\":\"a\",\"step\":2}\n{\"run\":\"a\",\"step\":3}",
            null);
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(JSON.readTree(r.body()).get("accepted").asInt()).isEqualTo(2);
  }

  @Test
  void servesHealthAndPrometheusMetricsThatPromtoolAccepts() throws Exception {
    metrics.gauge("queue_depth", "records waiting in memory for Kafka", () -> 3);
    post("{\"run\":\"a\",\"step\":1}\nnope", null);
    HttpResponse<String> h =
        client.send(
            HttpRequest.newBuilder(URI.create(http.url() + "/healthz")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(h.statusCode()).isEqualTo(200);
    HttpResponse<String> m =
        client.send(
            HttpRequest.newBuilder(URI.create(http.url() + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(m.headers().firstValue("Content-Type").orElse(""))
        .startsWith("text/plain; version=0.0.4");
    assertThat(m.body())
        .contains("trainwatch_ingest_accepted_total 1.0")
        .contains("trainwatch_ingest_rejected_total 1.0")
        .contains("# TYPE trainwatch_ingest_queue_depth gauge\ntrainwatch_ingest_queue_depth 3");
    // Prometheus' own linter accepts the page (Debian prometheus: promtool), as for alerts/
    Process lint =
        new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
    try (OutputStream in = lint.getOutputStream()) {
      in.write(m.body().getBytes(StandardCharsets.UTF_8));
    }
    String verdict = new String(lint.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(lint.waitFor()).as(verdict).isZero();
  }

  @Test
  void bindsToLoopbackByDefault() {
    assertThat(http.url()).startsWith("http://127.0.0.1:");
  }

  /** Issue 14 row 8: before, 4 slow connections blocked the sidecar, /healthz included. */
  @Test
  void slowAndLargeClientsNeitherBlockHealthNorOtherClients() throws Exception {
    http.close();
    queue = new ArrayBlockingQueue<>(10_000);
    metrics = new IngestMetrics();
    Intake intake =
        new Intake(TelemetryParser.DEFAULT, queue, "tel", "dlq", metrics, InstantSource.system());
    http =
        new HttpIntake(
            new HttpIntake.Settings("127.0.0.1", 0, null, 1 << 20, 0, 2, 5_000, 800, 256),
            intake,
            metrics,
            () -> false,
            () -> null);
    List<Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 40; i++) { // 20 trickling headers, 20 announcing a body they never send
        Socket s = new Socket("127.0.0.1", http.port());
        s.getOutputStream()
            .write(
                (i % 2 == 0
                        ? "POST /v1/records HTTP/1.1\r\nHost: x\r\nX-Slow: "
                        : "POST /v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"run\"")
                    .getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        slow.add(s);
      }
      HttpResponse<String> h =
          client.send(
              HttpRequest.newBuilder(URI.create(http.url() + "/healthz"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(h.statusCode()).isEqualTo(200);
      assertThat(post("{\"run\":\"a\",\"step\":1}", null).statusCode()).isEqualTo(202);
      // a body that never completes is answered 408 at http.request.timeout.ms
      Socket stalled = slow.get(1);
      stalled.setSoTimeout(5_000);
      String answer =
          new String(stalled.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
      assertThat(answer).isEqualTo("HTTP/1.1 408");
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
    // a chunked body without a length is cut off at the limit, never buffered past it
    HttpResponse<String> big =
        client.send(
            HttpRequest.newBuilder(URI.create(http.url() + "/v1/records"))
                .timeout(Duration.ofSeconds(10))
                .POST(
                    HttpRequest.BodyPublishers.ofInputStream(
                        () -> new ByteArrayInputStream(new byte[3 << 20])))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(big.statusCode()).isEqualTo(413);
    assertThat(big.body()).contains("http.max.body.bytes = 1048576");
  }

  @Test
  void routesAddedLaterAreServedWithPathParameters() throws Exception {
    http.route(
        "GET",
        "/v1/runs/{run}/alerts",
        false,
        call ->
            HttpIntake.Reply.json(
                200, ("{\"run\":\"" + call.params().get("run") + "\"}").getBytes()));
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(URI.create(http.url() + "/v1/runs/r%201/alerts")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"run\":\"r 1\"}");
    HttpResponse<String> missing =
        client.send(
            HttpRequest.newBuilder(URI.create(http.url() + "/v1/nothing")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(missing.statusCode()).isEqualTo(404);
    HttpResponse<String> wrong =
        client.send(
            HttpRequest.newBuilder(URI.create(http.url() + "/v1/records")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(wrong.statusCode()).isEqualTo(405);
  }

  @Test
  void aRefusingSidecarAnswers503WithTheReasonAndFailsItsHealthCheck() throws Exception {
    http.close();
    metrics = new IngestMetrics();
    Intake intake =
        new Intake(TelemetryParser.DEFAULT, queue, "tel", "dlq", metrics, InstantSource.system());
    AtomicReference<String> refusal = new AtomicReference<>("spool full");
    http =
        new HttpIntake(
            HttpIntake.Settings.of("127.0.0.1", 0, null, 1 << 20, 0),
            intake,
            metrics,
            () -> true,
            refusal::get);
    HttpResponse<String> r = post("{\"run\":\"a\",\"step\":1}", null);
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("not accepting records: spool full");
    HttpResponse<String> h =
        client.send(
            HttpRequest.newBuilder(URI.create(http.url() + "/healthz")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(h.statusCode()).isEqualTo(503);
    assertThat(h.body()).contains("\"reason\":\"spool full\"");
    refusal.set(null);
    assertThat(post("{\"run\":\"a\",\"step\":1}", null).statusCode()).isEqualTo(202);
  }

  /**
   * Issue 14 row 6: a record Kafka would refuse is refused at intake with 413, never acknowledged.
   */
  @Test
  void aRecordOverTheRecordLimitIsRefusedWith413() throws Exception {
    http.close();
    metrics = new IngestMetrics();
    queue.clear();
    Intake intake =
        new Intake(
            new TelemetryParser(TelemetryParser.Limits.DEFAULT.withMaxBytes(1_000_000)),
            queue,
            "tel",
            "dlq",
            metrics,
            InstantSource.system());
    http =
        new HttpIntake(
            HttpIntake.Settings.of("127.0.0.1", 0, null, 4 << 20, 0),
            intake,
            metrics,
            () -> false,
            () -> null);
    String big = "{\"run\":\"a\",\"step\":1,\"tags\":{\"x\":\"" + "y".repeat(1_040_000) + "\"}}";
    HttpResponse<String> r = post(big, null);
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(JSON.readTree(r.body()).get("accepted").asInt()).isZero();
    assertThat(r.body()).contains("exceeds the limit of 1000000");
    assertThat(telemetry()).isEmpty();
  }
}
