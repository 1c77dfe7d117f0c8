package dev.trainwatch.jobs.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.trainwatch.embedded.EmbeddedInflux;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.TelemetryRecord;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
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
        TelemetryRecord r = new TelemetryRecord("idem", s, 1_795_515_485_000L + s / 3, null, null,
            Metrics.of(Map.of("loss", 1.0 / (s + 1))), null, null);
        for (InfluxLine l : Points.telemetry(r)) {
          w.write(l, null);
        }
      }
      w.flush(true);
    }
  }

  static String query(String url, String db, String q) throws Exception {
    String u = url + "/query?db=" + db + "&q=" + URLEncoder.encode(q, StandardCharsets.UTF_8);
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(u)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  @Test
  void replayingTheSameRecordsOverwritesInsteadOfDuplicating() throws Exception {
    InfluxSinkConfig config = InfluxSinkConfig.forUrl(influx.url()).withDatabase("idem").withBatchSize(100);
    writeRun(config, 1000);
    String first = query(influx.url(), "idem", "SELECT count(\"loss\") FROM telemetry");
    writeRun(config, 1000);
    String second = query(influx.url(), "idem", "SELECT count(\"loss\") FROM telemetry");
    assertThat(first).contains(",1000]");
    assertThat(second).isEqualTo(first);
  }

  @Test
  void unknownDatabaseWithoutCreateFailsNamingTheSetting() throws Exception {
    InfluxSinkConfig c = InfluxSinkConfig.load(Map.of("influx.url", influx.url(), "influx.database", "nope",
        "influx.create-database", "false"), Map.of()).orElseThrow();
    try (InfluxSinkWriter w = InfluxSink.open(c, new InfluxBatchWriter(c), null)) {
      w.write(new InfluxLine("telemetry,run=x loss=1 1"), null);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> w.flush(true))
          .hasMessageContaining("influx.database");
    }
  }
}
