package dev.trainwatch.alerts.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.alerts.Fixtures;
import dev.trainwatch.alerts.config.AlertsConfig.Auth;
import dev.trainwatch.alerts.config.AlertsConfig.Http;
import dev.trainwatch.alerts.dispatch.Dispatcher.AlertStatus;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.metrics.AlertsMetrics.Counter;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.model.AlertLinks;
import dev.trainwatch.alerts.silence.Silences;
import dev.trainwatch.wire.Family;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ApiServerTest {

  private static final String BASIC =
      "Basic " + Base64.getEncoder().encodeToString("oncall:pw".getBytes(StandardCharsets.UTF_8));
  private final List<String> journaled = new ArrayList<>();
  private final Silences silences = new Silences(s -> journaled.add(s.id()));
  private final AlertsMetrics metrics = new AlertsMetrics();
  private final HttpClient http = HttpClient.newHttpClient();
  private volatile List<AlertStatus> alerts = List.of();
  private ApiServer api;

  private ApiServer start(Auth auth, int threads) throws Exception {
    Http h =
        new Http(
            "127.0.0.1", 0, auth, 1 << 20, Duration.ofSeconds(30), Duration.ofSeconds(2), threads);
    return new ApiServer(
        h,
        silences,
        () -> alerts,
        AlertLinks.NONE,
        metrics,
        InstantSource.fixed(Fixtures.START),
        () -> true);
  }

  @BeforeEach
  void start() throws Exception {
    api = start(new Auth("oncall", "pw", "tok-1", false), 4);
  }

  @AfterEach
  void stop() throws Exception {
    api.close();
  }

  private HttpResponse<String> call(String method, String path, String body, String authorization)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path))
            .timeout(Duration.ofSeconds(10));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static final String SILENCE =
      """
      {"matchers":[{"name":"run","value":"run-1","isRegex":false,"isEqual":true},
                   {"name":"severity","value":"warn.*","isRegex":true}],
       "startsAt":"2026-11-25T12:00:00Z","endsAt":"2026-11-25T13:00:00Z","createdBy":"me","comment":"known issue"}""";

  @Test
  void v2SilenceCreatedWithCredentialsMutesMatchingAlertsUntilExpired() throws Exception {
    HttpResponse<String> created = call("POST", "/api/v2/silences", SILENCE, BASIC);
    assertThat(created.statusCode()).isEqualTo(200);
    String id = new ObjectMapper().readTree(created.body()).get("silenceID").asText();
    assertThat(journaled).containsExactly(id);

    assertThat(silences.mutes(Map.of("run", "run-1", "severity", "warning"), Fixtures.START))
        .isTrue();
    assertThat(silences.mutes(Map.of("run", "run-1", "severity", "critical"), Fixtures.START))
        .isFalse();

    JsonNode one =
        new ObjectMapper().readTree(call("GET", "/api/v2/silence/" + id, null, null).body());
    assertThat(one.get("status").get("state").asText()).isEqualTo("active");
    assertThat(one.get("matchers")).hasSize(2);
    assertThat(one.get("matchers").get(1).get("isRegex").asBoolean()).isTrue();
    assertThat(one.get("matchers").get(1).has("regex")).isFalse();
    assertThat(one.get("matchers").get(0).get("isEqual").asBoolean()).isTrue();
    JsonNode filtered =
        new ObjectMapper()
            .readTree(call("GET", "/api/v2/silences?filter=run%3D%22run-1%22", null, null).body());
    assertThat(filtered).hasSize(1);
    JsonNode other =
        new ObjectMapper()
            .readTree(call("GET", "/api/v2/silences?filter=run%3D%22run-2%22", null, null).body());
    assertThat(other).isEmpty();

    assertThat(call("DELETE", "/api/v2/silence/" + id, null, "Bearer tok-1").statusCode())
        .isEqualTo(200);
    assertThat(silences.mutes(Map.of("run", "run-1", "severity", "warning"), Fixtures.START))
        .isFalse();
    assertThat(call("DELETE", "/api/v2/silence/nope", null, "Bearer tok-1").statusCode())
        .isEqualTo(404);
  }

  @Test
  void anonymousOrWrongCredentialsCannotCreateOrExpireSilences() throws Exception {
    HttpResponse<String> anon = call("POST", "/api/v2/silences", SILENCE, null);
    assertThat(anon.statusCode()).isEqualTo(401);
    assertThat(anon.headers().firstValue("WWW-Authenticate").orElse("")).startsWith("Basic");
    assertThat(call("POST", "/api/v2/silences", SILENCE, "Bearer wrong").statusCode())
        .isEqualTo(401);
    assertThat(
            call(
                    "POST",
                    "/api/v2/silences",
                    SILENCE,
                    "Basic "
                        + Base64.getEncoder()
                            .encodeToString("oncall:nope".getBytes(StandardCharsets.UTF_8)))
                .statusCode())
        .isEqualTo(401);
    assertThat(silences.all()).isEmpty();
    assertThat(journaled).isEmpty();
    String id =
        new ObjectMapper()
            .readTree(call("POST", "/api/v2/silences", SILENCE, BASIC).body())
            .get("silenceID")
            .asText();
    assertThat(call("DELETE", "/api/v2/silence/" + id, null, null).statusCode()).isEqualTo(401);
    assertThat(silences.get(id).orElseThrow().active(Fixtures.START)).isTrue();
    // reads are open unless protect_reads
    assertThat(call("GET", "/api/v2/silences", null, null).statusCode()).isEqualTo(200);
  }

  @Test
  void withNoCredentialsConfiguredWritesAreRefusedAndProtectedReadsNeedThem() throws Exception {
    api.close();
    api = start(Auth.NONE, 4);
    HttpResponse<String> r = call("POST", "/api/v2/silences", SILENCE, BASIC);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("http.auth");
    api.close();
    api = start(new Auth(null, null, "tok-1", true), 4);
    assertThat(call("GET", "/api/v2/silences", null, null).statusCode()).isEqualTo(401);
    assertThat(call("GET", "/api/v2/silences", null, "Bearer tok-1").statusCode()).isEqualTo(200);
    assertThat(call("GET", "/healthz", null, null).statusCode()).isEqualTo(200);
  }

  @Test
  void badSilencesAreRejectedWithTheField() throws Exception {
    HttpResponse<String> r =
        call(
            "POST",
            "/api/v2/silences",
            "{\"matchers\":[{\"name\":\"run\",\"value\":\"x\"}],\"createdBy\":\"me\"}",
            BASIC);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("endsAt");
    HttpResponse<String> all =
        call(
            "POST",
            "/api/v2/silences",
            """
        {"matchers":[{"name":"run","value":".*","isRegex":true}],"createdBy":"me",
         "endsAt":"2026-11-25T13:00:00Z"}""",
            BASIC);
    assertThat(all.statusCode()).isEqualTo(400);
    assertThat(all.body()).contains("empty string");
    assertThat(call("POST", "/api/v2/silences", "not json", BASIC).statusCode()).isEqualTo(400);
  }

  @Test
  void v1IsRetiredWithAPointerToV2() throws Exception {
    HttpResponse<String> r = call("GET", "/api/v1/silences", null, null);
    assertThat(r.statusCode()).isEqualTo(410);
    assertThat(r.body()).contains("/api/v2/silences");
  }

  @Test
  void alertsEndpointFiltersByMatcherAndMuteState() throws Exception {
    Alert a =
        Alert.from(
            Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10), null, Fixtures.START);
    Alert b =
        Alert.from(
            Fixtures.critical("run-2", Family.INSTABILITY, "loss_spike", 10), null, Fixtures.START);
    alerts =
        List.of(
            new AlertStatus(a, List.of("team"), List.of("s1"), List.of()),
            new AlertStatus(b, List.of("team", "pager"), List.of(), List.of()));

    JsonNode all = new ObjectMapper().readTree(call("GET", "/api/v2/alerts", null, null).body());
    assertThat(all).hasSize(2);
    assertThat(all.get(0).get("status").get("state").asText()).isEqualTo("suppressed");
    assertThat(all.get(0).get("status").get("silencedBy").get(0).asText()).isEqualTo("s1");
    assertThat(all.get(0).get("fingerprint").asText()).isEqualTo(a.fingerprint());
    assertThat(all.get(0).has("generatorURL")).isTrue();
    assertThat(all.get(0).get("receivers").get(0).get("name").asText()).isEqualTo("team");
    JsonNode run2 =
        new ObjectMapper()
            .readTree(call("GET", "/api/v2/alerts?filter=run%3D%22run-2%22", null, null).body());
    assertThat(run2).hasSize(1);
    assertThat(run2.get(0).get("labels").get("alertname").asText()).isEqualTo("loss_spike");
    JsonNode unsilenced =
        new ObjectMapper()
            .readTree(call("GET", "/api/v2/alerts?silenced=false", null, null).body());
    assertThat(unsilenced)
        .extracting(n -> n.get("labels").get("run").asText())
        .containsExactly("run-2");
    JsonNode pager =
        new ObjectMapper()
            .readTree(call("GET", "/api/v2/alerts?receiver=pag.*", null, null).body());
    assertThat(pager).hasSize(1);
  }

  @Test
  void hugeBodyIsRefusedWith413WithoutReadingIt() throws Exception {
    long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
    // a declared 400 MB body: refused from the header, the client is cut off
    try (Socket s = new Socket("127.0.0.1", api.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /api/v2/silences HTTP/1.1\r\nHost: x\r\nAuthorization: "
                  + BASIC
                  + "\r\nContent-Type: application/json\r\nContent-Length: 400000000\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[64 * 1024]);
      out.flush();
      String status = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
      assertThat(status).isEqualTo("HTTP/1.1 413");
    }
    // chunked, no length announced: cut off at max_body_bytes (1 MiB)
    try (Socket s = new Socket("127.0.0.1", api.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /api/v2/silences HTTP/1.1\r\nHost: x\r\nAuthorization: "
                  + BASIC
                  + "\r\nTransfer-Encoding: chunked\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      byte[] chunk = new byte[64 * 1024];
      InputStream in = s.getInputStream();
      String status = null;
      try {
        for (int i = 0; i < 6400 && status == null; i++) { // up to 400 MB
          out.write(
              (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
          out.write(chunk);
          out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
          if (in.available() > 0) {
            status = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
          }
        }
      } catch (IOException closedByServer) {
        // the server answered and closed while we were still writing
      }
      if (status == null) {
        status = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
      }
      assertThat(status).isEqualTo("HTTP/1.1 413");
    }
    long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
    assertThat(after - before).isLessThan(200L << 20);
    assertThat(call("GET", "/healthz", null, null).statusCode()).isEqualTo(200);
  }

  @Test
  void slowClientsDoNotBlockHealthzAndATricklingBodyIsCutOffAtTheRequestTimeout() throws Exception {
    api.close();
    api = start(new Auth("oncall", "pw", null, false), 2); // as few threads as allowed
    List<Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 20; i++) { // half-sent headers
        Socket s = new Socket("127.0.0.1", api.port());
        s.getOutputStream()
            .write("GET /healthz HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
        slow.add(s);
      }
      Socket body = new Socket("127.0.0.1", api.port()); // a body that never completes
      body.setSoTimeout(10_000);
      body.getOutputStream()
          .write(
              ("POST /api/v2/silences HTTP/1.1\r\nHost: x\r\nAuthorization: "
                      + BASIC
                      + "\r\nContent-Length: 1000\r\n\r\n{")
                  .getBytes(StandardCharsets.US_ASCII));
      slow.add(body);

      for (int i = 0; i < 5; i++) {
        assertThat(call("GET", "/healthz", null, null).statusCode()).isEqualTo(200);
      }
      long t0 = System.nanoTime();
      String status = new String(body.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
      assertThat(status).isEqualTo("HTTP/1.1 408");
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(8));
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
  }

  @Test
  void healthzAndPrometheusMetrics() throws Exception {
    metrics.inc(Counter.DELIVERED, "team");
    metrics.gauge("trainwatch_alerts_queue_depth", "depth", () -> 3);

    assertThat(call("GET", "/healthz", null, null).statusCode()).isEqualTo(200);
    HttpResponse<String> m = call("GET", "/metrics", null, null);
    assertThat(m.headers().firstValue("Content-Type").orElse(""))
        .startsWith("text/plain; version=0.0.4");
    assertThat(m.body())
        .contains("trainwatch_alerts_notifications_delivered_total{receiver=\"team\"} 1.0")
        .contains("# TYPE trainwatch_alerts_queue_depth gauge\ntrainwatch_alerts_queue_depth 3");
    // Prometheus' own linter accepts the page (Debian prometheus: promtool)
    Process lint =
        new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
    try (OutputStream in = lint.getOutputStream()) {
      in.write(m.body().getBytes(StandardCharsets.UTF_8));
    }
    String verdict = new String(lint.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(lint.waitFor()).as(verdict).isZero();
  }
}
