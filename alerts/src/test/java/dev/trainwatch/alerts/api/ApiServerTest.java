package dev.trainwatch.alerts.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.alerts.Fixtures;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.metrics.AlertsMetrics.Counter;
import dev.trainwatch.alerts.silence.Silences;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class ApiServerTest {

  private final List<String> journaled = new ArrayList<>();
  private final Silences silences = new Silences(s -> journaled.add(s.id()));
  private final AlertsMetrics metrics = new AlertsMetrics();
  private final HttpClient http = HttpClient.newHttpClient();
  private ApiServer api;

  @BeforeEach
  void start() throws Exception {
    api = new ApiServer("127.0.0.1", 0, silences, metrics, InstantSource.fixed(Fixtures.START), () -> true);
  }

  @AfterEach
  void stop() {
    api.close();
  }

  private HttpResponse<String> call(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void silenceCreatedThroughTheApiMutesMatchingAlertsUntilDeleted() throws Exception {
    HttpResponse<String> created = call("POST", "/api/v1/silences", """
        {"matchers":[{"name":"run","value":"run-1","isRegex":false,"isEqual":true},"severity=~\\"warn.*\\""],
         "endsAt":"2026-11-25T13:00:00Z","createdBy":"me","comment":"known issue"}""");
    assertThat(created.statusCode()).isEqualTo(200);
    String id = new ObjectMapper().readTree(created.body()).get("silenceID").asText();
    assertThat(journaled).containsExactly(id);

    assertThat(silences.mutes(Map.of("run", "run-1", "severity", "warning"), Fixtures.START)).isTrue();
    assertThat(silences.mutes(Map.of("run", "run-1", "severity", "critical"), Fixtures.START)).isFalse();

    JsonNode one = new ObjectMapper().readTree(call("GET", "/api/v1/silences/" + id, null).body());
    assertThat(one.get("status").get("state").asText()).isEqualTo("active");
    assertThat(one.get("matchers")).hasSize(2);
    JsonNode all = new ObjectMapper().readTree(call("GET", "/api/v1/silences", null).body());
    assertThat(all).hasSize(1);

    assertThat(call("DELETE", "/api/v1/silences/" + id, null).statusCode()).isEqualTo(200);
    assertThat(silences.mutes(Map.of("run", "run-1", "severity", "warning"), Fixtures.START)).isFalse();
    assertThat(call("DELETE", "/api/v1/silences/nope", null).statusCode()).isEqualTo(404);
  }

  @Test
  void badSilenceIsRejectedWithTheField() throws Exception {
    HttpResponse<String> r = call("POST", "/api/v1/silences", "{\"matchers\":[\"run=\\\"x\\\"\"]}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("endsAt");
    assertThat(call("POST", "/api/v1/silences", "not json").statusCode()).isEqualTo(400);
  }

  @Test
  void healthzAndPrometheusMetrics() throws Exception {
    metrics.inc(Counter.DELIVERED, "team");
    metrics.gauge("trainwatch_alerts_queue_depth", "depth", () -> 3);

    assertThat(call("GET", "/healthz", null).statusCode()).isEqualTo(200);
    HttpResponse<String> m = call("GET", "/metrics", null);
    assertThat(m.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
    assertThat(m.body()).contains("trainwatch_alerts_notifications_delivered_total{receiver=\"team\"} 1")
        .contains("# TYPE trainwatch_alerts_queue_depth gauge\ntrainwatch_alerts_queue_depth 3");
  }
}
