package dev.trainwatch.jobs.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.embedded.EmbeddedInflux;
import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.jobs.detect.ConfigException;
import dev.trainwatch.jobs.flink.JobConfig;
import dev.trainwatch.jobs.flink.TopicSetup;
import dev.trainwatch.jobs.replay.TopicReader;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TraceFiles;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The production path of a platform team: the cluster jar submitted with the {@code flink} command
 * line client ({@code TrainwatchJob.main}) to a multi-process session cluster, against a broker
 * that has no topics yet and a real influxd. The job must create its topics with the configured
 * partition counts, detect, and store telemetry, detector metrics and alerts so that the run
 * dashboard's queries return data for the runs.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class ProductionJobIT {

  static final Path TRACES =
      Path.of(System.getProperty("trainwatch.shared", "../../shared"), "eval", "traces");
  static final Path JOB_JAR =
      Path.of("..", "flink", "target", "trainwatch-jobs-flink.jar").toAbsolutePath();
  static final Path RUN_DASHBOARD = Path.of("../..", "grafana", "dashboards", "run.json");
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  /**
   * A collapse, an attention-instability divergence and a continual-learning run: every panel kind
   * but sharpness.
   */
  static final List<String> RUNS =
      List.of("sc-mlp-p97-lr3e-3-s1", "lm-char-py-d128-w800-lr1e-1-s1", "cl-digits-ci-replay-s0");

  /**
   * No public trace publishes sharpness, so this panel has no data for any of them
   * (DashboardQueriesIT covers it with a fixture).
   */
  static final Set<String> NO_PUBLIC_DATA = Set.of("lr x sharpness vs 2");

  @TempDir Path work;

  @Test
  void flinkRunOfTheJobJarCreatesTopicsDetectsAndStoresWhatTheRunDashboardShows() throws Exception {
    if (!EmbeddedInflux.isAvailable()) {
      if (System.getenv("CI") != null) {
        fail("influxd is required when CI is set: apt-get install -y influxdb");
      }
      Assumptions.abort("influxd not installed (apt-get install -y influxdb)");
    }
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
        EmbeddedInflux influx = EmbeddedInflux.start();
        LocalFlinkCluster cluster = new LocalFlinkCluster(work, 2)) {
      // With creation off, a missing topic is one error naming it (and nothing is created).
      JobConfig noCreate =
          JobConfig.of(
              Map.of(
                  "kafka.bootstrap.servers", kafka.bootstrapServers(), "topics.create", "false"));
      assertThatThrownBy(() -> TopicSetup.ensure(noCreate))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining(
              "topic 'trainwatch.telemetry' does not exist on " + kafka.bootstrapServers())
          .hasMessageContaining("topics.create=false");
      assertThat(topics(kafka.bootstrapServers())).doesNotContain("trainwatch.telemetry");

      cluster.start(1);
      Path props = work.resolve("job.properties");
      Files.writeString(
          props,
          String.join(
              "\n",
              "kafka.bootstrap.servers=" + kafka.bootstrapServers(),
              "topics.telemetry.partitions=3",
              "job.parallelism=2",
              "job.name=trainwatch-production-it",
              "checkpoint.interval.ms=1000",
              "checkpoint.dir=" + work.resolve("checkpoints"),
              "source.starting-offsets=earliest",
              "influx.url=" + influx.url(),
              "influx.flush-interval.ms=200",
              ""));
      Process submit =
          cluster.flinkCli(
              work.resolve("flink-run.log"),
              "run",
              "-d",
              "-m",
              "127.0.0.1:" + cluster.restPort(),
              "-c",
              "dev.trainwatch.jobs.flink.TrainwatchJob",
              JOB_JAR.toString(),
              "--config",
              props.toString());
      assertThat(submit.waitFor(120, TimeUnit.SECONDS)).as("flink run returns (detached)").isTrue();
      assertThat(submit.exitValue()).as(Files.readString(work.resolve("flink-run.log"))).isZero();

      Map<String, Integer> partitions = partitions(kafka.bootstrapServers());
      assertThat(partitions)
          .containsEntry("trainwatch.telemetry", 3)
          .containsEntry("trainwatch.alerts", 2)
          .containsEntry("trainwatch.dead-letter", 1)
          .containsEntry("trainwatch.metrics", 2);

      long sent = produce(kafka.bootstrapServers(), "trainwatch.telemetry");
      // Every record stored (the sink is idempotent per run/step, so the count is exact).
      long stored = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
      while (System.nanoTime() < deadline && stored < sent) {
        Thread.sleep(1000);
        stored = scalar(influx, "SELECT count(\"step\") FROM \"telemetry\"");
      }
      assertThat(stored)
          .as("telemetry points stored; flink logs in " + cluster.logDir())
          .isEqualTo(sent);
      List<AlertEvent> alerts = awaitAlerts(kafka.bootstrapServers(), influx);

      assertThat(alerts.stream().map(AlertEvent::run).distinct())
          .containsExactlyInAnyOrderElementsOf(RUNS);
      assertThat(scalar(influx, "SELECT count(\"firing\") FROM \"alerts\""))
          .isEqualTo(alerts.size());

      List<String> empty = new ArrayList<>();
      int executed = 0;
      for (JsonNode q : queries(JSON.readTree(RUN_DASHBOARD.toFile()))) {
        if (NO_PUBLIC_DATA.contains(q.path("title").asText())) {
          continue;
        }
        boolean any = false;
        for (String run : RUNS) {
          any |= hasValue(query(influx, substitute(influx, q.path("query").asText(), run)));
          executed++;
        }
        if (!any) {
          empty.add(q.path("title").asText() + ": " + q.path("query").asText());
        }
      }
      assertThat(executed).isGreaterThan(60);
      assertThat(empty).as("run-dashboard queries with no data for any run").isEmpty();
      // detector metrics reached storage for each run (count(*) has one column per field; any will
      // do)
      for (String run : RUNS) {
        assertThat(
                hasValue(
                    query(
                        influx, "SELECT count(*) FROM \"detector\" WHERE \"run\" = '" + run + "'")))
            .as("detector metrics of " + run)
            .isTrue();
      }
    }
  }

  /** Alerts committed to the alerts topic, once the last of them is also in InfluxDB. */
  private static List<AlertEvent> awaitAlerts(String bootstrap, EmbeddedInflux influx)
      throws Exception {
    List<AlertEvent> alerts = List.of();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      alerts =
          TopicReader.readAll(bootstrap, "trainwatch.alerts", Duration.ofSeconds(20)).stream()
              .map(AlertJson::parse)
              .toList();
      if (alerts.stream().map(AlertEvent::run).distinct().count() == RUNS.size()
          && scalar(influx, "SELECT count(\"firing\") FROM \"alerts\"") == alerts.size()) {
        break;
      }
      Thread.sleep(1000);
    }
    return alerts;
  }

  private long produce(String bootstrap, String topic) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    long[] n = {0};
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (String run : RUNS) {
        TraceFiles.forEachLine(
            TRACES.resolve(run + ".jsonl.gz"),
            line -> {
              byte[] value = line.getBytes(StandardCharsets.UTF_8);
              byte[] key = TelemetryParser.DEFAULT.peekRun(value).getBytes(StandardCharsets.UTF_8);
              producer.send(new ProducerRecord<>(topic, key, value));
              n[0]++;
            });
      }
      producer.flush();
    }
    return n[0];
  }

  private static Set<String> topics(String bootstrap) throws Exception {
    try (Admin a = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      return a.listTopics().names().get(30, TimeUnit.SECONDS);
    }
  }

  private static Map<String, Integer> partitions(String bootstrap) throws Exception {
    try (Admin a = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      Map<String, Integer> out = new LinkedHashMap<>();
      a.describeTopics(a.listTopics().names().get(30, TimeUnit.SECONDS))
          .allTopicNames()
          .get(30, TimeUnit.SECONDS)
          .forEach((name, d) -> out.put(name, d.partitions().size()));
      return out;
    }
  }

  /** Variable, annotation and panel queries of a dashboard, each as {title, query}. */
  static List<JsonNode> queries(JsonNode dash) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode a : dash.path("annotations").path("list")) {
      if (a.path("builtIn").asInt(0) != 1) {
        out.add(
            JSON.createObjectNode()
                .put("title", "annotation " + a.path("name").asText())
                .put("query", a.path("query").asText()));
      }
    }
    List<JsonNode> panels = new ArrayList<>();
    dash.path("panels")
        .forEach(
            p -> {
              panels.add(p);
              p.path("panels").forEach(panels::add);
            });
    for (JsonNode p : panels) {
      for (JsonNode t : p.path("targets")) {
        out.add(
            JSON.createObjectNode()
                .put("title", p.path("title").asText())
                .put("query", t.path("query").asText()));
      }
    }
    return out;
  }

  /** Grafana's substitution of $run, $timeFilter and $__interval over the run's time range. */
  private static String substitute(EmbeddedInflux influx, String q, String run) throws Exception {
    long from =
        time(influx, "SELECT first(\"step\") FROM \"telemetry\" WHERE \"run\" = '" + run + "'");
    long to =
        time(influx, "SELECT last(\"step\") FROM \"telemetry\" WHERE \"run\" = '" + run + "'");
    long intervalMs = Math.max(1, (to - from) / 1_000_000 / 500);
    return q.replace("$run", run.replace(".", "\\."))
        .replace("$timeFilter", "time >= " + from + " AND time <= " + to)
        .replace("$__interval", intervalMs + "ms");
  }

  private static long time(EmbeddedInflux influx, String q) throws Exception {
    Instant t =
        Instant.parse(
            query(influx, q)
                .path("results")
                .get(0)
                .path("series")
                .get(0)
                .path("values")
                .get(0)
                .get(0)
                .asText());
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }

  private static long scalar(EmbeddedInflux influx, String q) throws Exception {
    JsonNode s = query(influx, q).path("results").get(0).path("series");
    return s.isMissingNode() || s.isEmpty() ? 0 : s.get(0).path("values").get(0).get(1).asLong();
  }

  private static boolean hasValue(JsonNode result) {
    for (JsonNode r : result.path("results")) {
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

  static JsonNode query(EmbeddedInflux influx, String q) throws Exception {
    String u =
        influx.url() + "/query?db=trainwatch&q=" + URLEncoder.encode(q, StandardCharsets.UTF_8);
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(u)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("%s: %s", q, r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }
}
