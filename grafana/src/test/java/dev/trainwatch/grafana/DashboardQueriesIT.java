package dev.trainwatch.grafana;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.trainwatch.embedded.EmbeddedInflux;
import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.jobs.replay.Replay;
import dev.trainwatch.jobs.storage.InfluxBatchWriter;
import dev.trainwatch.jobs.storage.InfluxSink;
import dev.trainwatch.jobs.storage.InfluxSinkConfig;
import dev.trainwatch.jobs.storage.InfluxSinkWriter;
import dev.trainwatch.jobs.storage.Points;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.TelemetryRecord;
import dev.trainwatch.wire.TraceFiles;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dashboards against real data, without a Grafana server: a real influxd, the public traces
 * replayed through the real path (embedded Kafka -> Flink job with storage attached), then every
 * variable, panel and annotation query of every dashboard run over HTTP with the template variables
 * and macros substituted the way Grafana does, each asserted to return at least one non-null value.
 *
 * <p>Two fixtures are written through the same point mapping and sink writer, because the public
 * data cannot supply them: alerts derived from {@code labels.json} (detector {@code
 * labels-fixture}; the detector registry is still empty on this branch, so the job emits none yet),
 * and a short run {@code fixture-eos} that publishes {@code sharpness}, which no public trace does.
 */
class DashboardQueriesIT {

  private static final String DB = "trainwatch";
  private static final Path TRACES =
      Path.of(System.getProperty("trainwatch.shared", "../../shared"), "eval", "traces");
  private static final long FIXTURE_T0 = 1_795_600_000_000L;

  /** The run each run-dashboard panel is checked with: one of the kind the panel is about. */
  private static final Map<String, String> RUN_FOR_PANEL =
      Map.of(
          "Loss with spike markers", "lm-char-py-d128-w800-lr1e-1-s1",
          "Gradient norm vs baseline", "lm-char-py-d128-w800-lr1e-1-s1",
          "Continual-evaluation metrics (min-ACC, WC-ACC, WF)", "cl-digits-ci-replay-s0",
          "Attention max logit and entropy", "lm-char-py-d128-w800-lr1e-1-s1",
          "lr x sharpness vs 2", "fixture-eos",
          "Per-task accuracy with task switches and gaps", "cl-digits-ci-replay-s0");

  private static final Map<String, String> RUN_FOR_ANNOTATION =
      Map.of("annotation Task switches", "cl-digits-ci-replay-s0");
  private static final String DEFAULT_RUN = "sc-mlp-p97-lr3e-3-s1";

  private static EmbeddedInflux influx;
  private static Replay.Result replay;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void replayTracesIntoInflux() throws Exception {
    if (!EmbeddedInflux.isAvailable()) {
      String ci = System.getenv("CI");
      if (ci != null && !ci.isBlank()) {
        fail("influxd is required when CI is set: apt-get install -y influxdb");
      }
      Assumptions.abort("influxd not installed (apt-get install -y influxdb)");
    }
    influx = EmbeddedInflux.start();
    InfluxSinkConfig config = InfluxSinkConfig.forUrl(influx.url()).withDatabase(DB);
    List<Path> traces = TraceFiles.resolve(List.of(TRACES));
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      replay = Replay.run(kafka.bootstrapServers(), traces, 2, Map.of(), System.nanoTime(), config);
    }
    writeFixtures(config, traces);
  }

  @AfterAll
  static void stopInflux() {
    if (influx != null) {
      influx.close();
    }
  }

  private static void writeFixtures(InfluxSinkConfig config, List<Path> traces) throws Exception {
    try (InfluxSinkWriter w = InfluxSink.open(config, new InfluxBatchWriter(config), null)) {
      for (AlertEvent a : LabelAlerts.fromLabels(TRACES.resolve("labels.json"), traces)) {
        w.write(Points.alert(a), null);
      }
      for (int s = 0; s < 200; s++) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("loss", 1.0 / (1 + s));
        m.put("lr", 0.01);
        m.put("sharpness", 150.0 + s);
        for (var l :
            Points.telemetry(
                new TelemetryRecord(
                    "fixture-eos",
                    s,
                    FIXTURE_T0 + 10L * s,
                    null,
                    null,
                    Metrics.of(m),
                    null,
                    null))) {
          w.write(l, null);
        }
      }
      w.flush(true);
    }
  }

  @Test
  void replayStoredEveryTraceRecord() throws Exception {
    JsonNode r = query("SELECT count(\"step\") FROM \"telemetry\" WHERE \"run\" != 'fixture-eos'");
    long stored =
        r.path("results").get(0).path("series").get(0).path("values").get(0).get(1).asLong();
    assertThat(stored).isEqualTo(replay.recordsSent() - replay.deadLetters().size());
  }

  @Test
  void runVariableListsEveryReplayedRun() throws Exception {
    JsonNode run = Dashboards.read(Dashboards.BASE.resolve("dashboards/run.json"));
    String q = run.path("templating").path("list").get(0).path("query").asText();
    List<String> runs = new ArrayList<>();
    query(q)
        .path("results")
        .get(0)
        .path("series")
        .get(0)
        .path("values")
        .forEach(v -> runs.add(v.get(1).asText()));
    assertThat(runs)
        .contains(
            "sc-mlp-p97-lr3e-3-s1", "cl-digits-ci-replay-s0", "lm-char-py-d128-w800-lr1e-1-s1");
  }

  @Test
  void everyQueryOfEveryDashboardReturnsData() throws Exception {
    List<String> empty = new ArrayList<>();
    int executed = 0;
    for (Path file : Dashboards.files()) {
      for (Dashboards.Query q : Dashboards.queries(Dashboards.read(file))) {
        String run =
            q.panelTitle() != null
                ? RUN_FOR_PANEL.getOrDefault(q.panelTitle(), DEFAULT_RUN)
                : RUN_FOR_ANNOTATION.getOrDefault(q.where(), DEFAULT_RUN);
        String sql = substitute(q.influxql(), q.influxql().contains("$run") ? run : null);
        JsonNode result = query(sql);
        executed++;
        if (!hasValue(result)) {
          empty.add(
              q.dashboard() + " / " + q.where() + " [run=" + run + "]: " + sql + " -> " + result);
        }
      }
    }
    assertThat(executed).isGreaterThanOrEqualTo(20);
    assertThat(empty).as("queries that returned no data").isEmpty();
  }

  /**
   * Grafana's substitution: $run, then $timeFilter and $__interval for the run's (or all data's)
   * range.
   */
  private static String substitute(String q, String run) throws Exception {
    String where = run == null ? "\"run\" != ''" : "\"run\" = '" + run + "'";
    long from = timeOf("SELECT first(\"step\") FROM \"telemetry\" WHERE " + where);
    long to = timeOf("SELECT last(\"step\") FROM \"telemetry\" WHERE " + where);
    long intervalMs = Math.max(1, (to - from) / 1_000_000 / 500);
    String s =
        run == null
            ? q
            : q.replace("$run", Pattern.quote(run).replace("\\Q", "").replace("\\E", ""));
    return s.replace("$timeFilter", "time >= " + from + " AND time <= " + to)
        .replace("$__interval", intervalMs + "ms");
  }

  private static long timeOf(String q) throws Exception {
    String t =
        query(q + " ")
            .path("results")
            .get(0)
            .path("series")
            .get(0)
            .path("values")
            .get(0)
            .get(0)
            .asText();
    return Instant.parse(t).getEpochSecond() * 1_000_000_000L + Instant.parse(t).getNano();
  }

  private static boolean hasValue(JsonNode result) {
    for (JsonNode r : result.path("results")) {
      if (r.has("error")) {
        return false;
      }
      for (JsonNode series : r.path("series")) {
        for (JsonNode row : series.path("values")) {
          for (int i = 1; i < row.size(); i++) {
            if (!row.get(i).isNull()) {
              return true;
            }
          }
        }
      }
    }
    return false;
  }

  static JsonNode query(String q) throws Exception {
    String u =
        influx.url() + "/query?db=" + DB + "&q=" + URLEncoder.encode(q, StandardCharsets.UTF_8);
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(u)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("HTTP status of %s: %s", q, r.body()).isEqualTo(200);
    return Dashboards.JSON.readTree(r.body());
  }
}
