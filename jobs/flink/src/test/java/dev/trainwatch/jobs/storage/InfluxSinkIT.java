package dev.trainwatch.jobs.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.embedded.EmbeddedInflux;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Against a real influxd: points arrive, and writing the same records again duplicates nothing. */
class InfluxSinkIT {

  private static EmbeddedInflux influx;

  @BeforeAll
  static void startInflux() throws Exception {
    if (!EmbeddedInflux.isAvailable()) {
      String ci = System.getenv("CI");
      if (ci != null && !ci.isBlank()) {
        fail("influxd is required when CI is set: apt-get install -y influxdb");
      }
      Assumptions.abort("influxd not installed (apt-get install -y influxdb)");
    }
    influx = EmbeddedInflux.start();
  }

  @AfterAll
  static void stopInflux() {
    if (influx != null) {
      influx.close();
    }
  }

  private static void writeRun(InfluxSinkConfig config, int steps) throws Exception {
    try (InfluxSinkWriter w = InfluxSink.open(config, new InfluxBatchWriter(config), null)) {
      for (int s = 0; s < steps; s++) {
        TelemetryRecord r =
            new TelemetryRecord(
                "idem",
                s,
                1_795_515_485_000L + s / 3,
                null,
                null,
                Metrics.of(Map.of("loss", 1.0 / (s + 1))),
                null,
                null);
        for (InfluxLine l : Points.telemetry(r)) {
          w.write(l, null);
        }
      }
      w.flush(true);
    }
  }

  static String query(String url, String db, String q) throws Exception {
    String u = url + "/query?db=" + db + "&q=" + URLEncoder.encode(q, StandardCharsets.UTF_8);
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(u)).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  @Test
  void replayingTheSameRecordsOverwritesInsteadOfDuplicating() throws Exception {
    InfluxSinkConfig config =
        InfluxSinkConfig.forUrl(influx.url()).withDatabase("idem").withBatchSize(100);
    writeRun(config, 1000);
    String first = query(influx.url(), "idem", "SELECT count(\"loss\") FROM telemetry");
    writeRun(config, 1000);
    String second = query(influx.url(), "idem", "SELECT count(\"loss\") FROM telemetry");
    assertThat(first).contains(",1000]");
    assertThat(second).isEqualTo(first);
  }

  @Test
  void unknownDatabaseWithoutCreateFailsNamingTheSetting() throws Exception {
    InfluxSinkConfig c =
        InfluxSinkConfig.load(
                Map.of(
                    "influx.url",
                    influx.url(),
                    "influx.database",
                    "nope",
                    "influx.create-database",
                    "false"),
                Map.of())
            .orElseThrow();
    try (InfluxSinkWriter w = InfluxSink.open(c, new InfluxBatchWriter(c), null)) {
      w.write(new InfluxLine("telemetry,run=x loss=1 1"), null);
      Assertions.assertThatThrownBy(() -> w.flush(true)).hasMessageContaining("influx.database");
    }
  }

  /**
   * Issue 14 row 10: every name a valid record may carry survives InfluxDB's line protocol (run and
   * task as tags, metric names as field keys, tags as run_info fields): spaces, commas, equals
   * signs, quotes and non-ASCII. Each record is accepted by the validator first, as on the real
   * path; a newline or a backslash, which InfluxDB 1.x cannot carry in every position (a run ending
   * in a backslash lost all its points), is rejected there (TelemetryLimitsTest).
   */
  @Test
  void everyValidNameSurvivesTheLineProtocol() throws Exception {
    String[] names = {
      "a b",
      "a,b",
      "a=b",
      "a\"b",
      "\u00fcn\u00ef \ud83d\ude00",
      "x,y=z w",
      "'single'",
      "#hash",
      "a\"b c,d=\"",
      "=",
      ",",
      " lead",
      "trail ",
      "tab\u00a0nbsp"
    };
    InfluxSinkConfig config =
        InfluxSinkConfig.forUrl(influx.url()).withDatabase("escape").withBatchSize(10);
    ObjectMapper json = new ObjectMapper();
    List<String> runs = new ArrayList<>();
    try (InfluxSinkWriter w = InfluxSink.open(config, new InfluxBatchWriter(config), null)) {
      for (int i = 0; i < names.length; i++) {
        String n = names[i];
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("run", n);
        rec.put("step", i);
        rec.put("time_ms", 1_795_515_485_000L + i);
        rec.put("task", n);
        rec.put("metrics", Map.of(n, 1.5 + i));
        rec.put("tags", Map.of(n, n));
        var parsed = TelemetryParser.DEFAULT.parse(json.writeValueAsBytes(rec));
        assertThat(parsed).as(n + ": " + parsed).isInstanceOf(ParseResult.Parsed.class);
        TelemetryRecord r = ((ParseResult.Parsed) parsed).record();
        runs.add(n);
        for (InfluxLine l : Points.telemetry(r)) {
          w.write(l, null);
        }
      }
      w.flush(true);
    }
    var runsStored =
        json.readTree(
            query(influx.url(), "escape", "SHOW TAG VALUES FROM telemetry WITH KEY = \"run\""));
    Set<String> stored = new TreeSet<>();
    runsStored.at("/results/0/series/0/values").forEach(v -> stored.add(v.get(1).asText()));
    assertThat(stored).containsExactlyInAnyOrderElementsOf(runs);
    var tasksStored =
        json.readTree(
            query(influx.url(), "escape", "SHOW TAG VALUES FROM telemetry WITH KEY = \"task\""));
    Set<String> tasks = new TreeSet<>();
    tasksStored.at("/results/0/series/0/values").forEach(v -> tasks.add(v.get(1).asText()));
    assertThat(tasks).containsExactlyInAnyOrderElementsOf(runs);
    var fields = json.readTree(query(influx.url(), "escape", "SHOW FIELD KEYS FROM telemetry"));
    Set<String> keys = new TreeSet<>();
    fields.at("/results/0/series/0/values").forEach(v -> keys.add(v.get(0).asText()));
    assertThat(keys).containsAll(runs);
    var info = json.readTree(query(influx.url(), "escape", "SHOW FIELD KEYS FROM run_info"));
    Set<String> infoKeys = new TreeSet<>();
    info.at("/results/0/series/0/values").forEach(v -> infoKeys.add(v.get(0).asText()));
    assertThat(infoKeys).containsAll(runs);
    assertThat(query(influx.url(), "escape", "SELECT count(\"step\") FROM telemetry"))
        .contains("," + names.length + "]");
  }
}
