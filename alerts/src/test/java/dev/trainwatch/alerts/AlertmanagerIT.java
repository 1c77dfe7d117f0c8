package dev.trainwatch.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Severity;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lifecycle a receiver of the real Prometheus Alertmanager (Debian 0.25) sees, with the alerts
 * service run from its jar and Alertmanager's own webhook as the receiver. Alertmanager runs with
 * resolve_timeout 5 s, so an alert pushed without endsAt, or not re-sent, would be declared
 * resolved after 5 s; every alert here fires for at least 4 of those. Each test takes about 30 s.
 */
@Timeout(180)
class AlertmanagerIT {

  private static final Duration RESOLVE_TIMEOUT = Duration.ofSeconds(5);
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static EmbeddedKafka kafka;
  @TempDir Path dir;

  @BeforeAll
  static void startKafka() throws Exception {
    // bin/test installs them; a missing binary is a failure, not a silent skip
    assertThat(AlertmanagerProcess.installed())
        .as(
            "prometheus-alertmanager and amtool (Debian "
                + "prometheus-alertmanager 0.25: apt-get install prometheus-alertmanager)")
        .isTrue();
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void stopKafka() throws Exception {
    if (kafka != null) {
      kafka.close();
    }
  }

  private record Setup(String topic, String yaml, int port) {}

  private Setup setup(String route, String amReceiver) throws Exception {
    int n = SEQ.incrementAndGet();
    String topic = "am-alerts-" + n;
    kafka.createTopics(Map.of(topic, 2, topic + "-dl", 1));
    int port = freePort();
    String yaml =
        """
        kafka: {bootstrap_servers: '%s', topic: %s, dead_letter_topic: %s-dl, group_id: am-%d}
        http:
          port: %d
          auth: {username: oncall, password: pw}
        state: {dir: '%s'}
        route: %s
        receivers:
          - {name: log, type: file, path: '%s'}
          - %s
        """
            .formatted(
                kafka.bootstrapServers(),
                topic,
                topic,
                n,
                port,
                dir.resolve("state"),
                route,
                dir.resolve("notifications.jsonl"),
                amReceiver);
    return new Setup(topic, yaml, port);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static AlertEvent firing(String run, String detector, Severity sev, long step) {
    return AlertEvent.firing(
        run,
        Family.INSTABILITY,
        detector,
        sev,
        step,
        System.currentTimeMillis(),
        detector + " on " + run,
        "lower the learning rate",
        Map.of("value", 3.0),
        null);
  }

  private static AlertEvent resolved(AlertEvent e, long step) {
    return e.resolve(step, System.currentTimeMillis(), "back to normal", Map.of());
  }

  /** "run/detector/severity status" for every alert in every webhook call Alertmanager made. */
  private static List<String> webhookEvents(TestReceiver rx) {
    List<String> out = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (TestReceiver.Request r : rx.delivered()) {
      try {
        for (JsonNode a : json.readTree(r.body()).get("alerts")) {
          JsonNode l = a.get("labels");
          out.add(
              l.path("run").asText()
                  + "/"
                  + l.path("detector").asText()
                  + "/"
                  + l.path("severity").asText()
                  + " "
                  + a.get("status").asText());
        }
      } catch (IOException e) {
        throw new AssertionError(r.body(), e);
      }
    }
    return out;
  }

  private static List<String> active(AlertmanagerProcess am) throws Exception {
    List<String> out = new ArrayList<>();
    for (JsonNode a : am.alerts()) {
      if (a.get("status").get("state").asText().equals("active")) {
        JsonNode l = a.get("labels");
        out.add(
            l.path("run").asText()
                + "/"
                + l.path("detector").asText()
                + "/"
                + l.path("severity").asText());
      }
    }
    return out;
  }

  @Test
  void alertmanagerRoutesModeKeepsALongFiringAlertActiveAndEndsBothIdentitiesOfAnEscalation()
      throws Exception {
    try (TestReceiver hook = new TestReceiver();
        AlertmanagerProcess am =
            AlertmanagerProcess.start(dir.resolve("am"), hook.url(), RESOLVE_TIMEOUT)) {
      Setup s =
          setup(
              "{receiver: log, group_wait: 200ms, group_interval: 1s}",
              "{name: am, type: alertmanager, mode: alertmanager, url: '"
                  + am.url()
                  + "/api/v2/alerts', resend_interval: 1s}");
      try (AlertsServiceProcess svc =
          AlertsServiceProcess.start(dir.resolve("svc"), s.yaml(), s.port())) {
        AlertEvent w =
            firing("run-a", "grad_norm_spike", Severity.WARNING, 100)
                .withTags(Map.of("team", "ml-infra", "model", "mlp"));
        AlertsServiceIT.produce(kafka.bootstrapServers(), s.topic(), List.of(w));
        TestReceiver.await(
            Duration.ofSeconds(20),
            () -> webhookEvents(hook).contains("run-a/grad_norm_spike/warning firing"),
            "the warning at Alertmanager's webhook");
        Thread.sleep(4 * RESOLVE_TIMEOUT.toMillis()); // four resolve_timeouts of firing

        assertThat(webhookEvents(hook)).containsExactly("run-a/grad_norm_spike/warning firing");
        assertThat(active(am)).containsExactly("run-a/grad_norm_spike/warning");
        JsonNode labels = am.alerts().get(0).get("labels");
        assertThat(labels.path("team").asText())
            .isEqualTo("ml-infra"); // tag_labels default: project, team, user
        assertThat(labels.has("model")).isFalse();
        assertThat(am.alerts().get(0).get("generatorURL").asText())
            .contains("/d/trainwatch-run?")
            .contains("var-run=run-a");

        AlertEvent c =
            firing("run-a", "grad_norm_spike", Severity.CRITICAL, 200)
                .withTags(Map.of("team", "ml-infra", "model", "mlp"));
        AlertsServiceIT.produce(kafka.bootstrapServers(), s.topic(), List.of(c));
        TestReceiver.await(
            Duration.ofSeconds(20),
            () ->
                webhookEvents(hook)
                    .containsAll(
                        List.of(
                            "run-a/grad_norm_spike/warning resolved",
                            "run-a/grad_norm_spike/critical firing")),
            "escalation");
        AlertsServiceIT.produce(
            kafka.bootstrapServers(), s.topic(), List.of(resolved(c, 300))); // run ended
        TestReceiver.await(
            Duration.ofSeconds(20),
            () -> webhookEvents(hook).contains("run-a/grad_norm_spike/critical resolved"),
            "the critical resolved");
        Thread.sleep(
            RESOLVE_TIMEOUT.toMillis()); // anything stray would arrive within a resolve_timeout

        assertThat(webhookEvents(hook))
            .containsExactlyInAnyOrder(
                "run-a/grad_norm_spike/warning firing", "run-a/grad_norm_spike/warning resolved",
                "run-a/grad_norm_spike/critical firing", "run-a/grad_norm_spike/critical resolved");
        assertThat(active(am)).isEmpty();
      }
    }
  }

  @Test
  void trainwatchRoutesModeWithAmtoolSilencesAndInhibitionSendsNothingStray() throws Exception {
    try (TestReceiver hook = new TestReceiver();
        AlertmanagerProcess am =
            AlertmanagerProcess.start(dir.resolve("am"), hook.url(), RESOLVE_TIMEOUT)) {
      Setup s =
          setup(
              "{receiver: am, group_wait: 200ms, group_interval: 1s}",
              "{name: am, type: alertmanager, url: '"
                  + am.url()
                  + "/api/v2/alerts', resend_interval: 1s}");
      try (AlertsServiceProcess svc =
          AlertsServiceProcess.start(dir.resolve("svc"), s.yaml(), s.port())) {
        Path auth = dir.resolve("amtool-http.yml");
        Files.writeString(auth, "basic_auth: {username: oncall, password: pw}\n");
        Amtool amtool = new Amtool(svc.url(), auth);

        Amtool.Result anonymous =
            new Amtool(svc.url(), null).run("silence", "add", "run=run-s", "-c", "x");
        assertThat(anonymous.exit()).isNotZero();
        assertThat(anonymous.errors()).contains("401");
        Amtool.Result added =
            amtool.run(
                "silence",
                "add",
                "run=run-s",
                "-c",
                "known noisy run",
                "-a",
                "oncall",
                "-d",
                "10m");
        assertThat(added.exit()).as(added.errors()).isZero();
        String id = added.output().strip();
        assertThat(amtool.run("silence", "query", "-q", "run=run-s").output().strip())
            .isEqualTo(id);

        AlertEvent crit = firing("run-b", "loss_spike", Severity.CRITICAL, 100);
        AlertEvent inhibited = firing("run-b", "grad_norm_spike", Severity.WARNING, 100);
        AlertEvent silenced = firing("run-s", "grad_norm_spike", Severity.WARNING, 100);
        AlertsServiceIT.produce(
            kafka.bootstrapServers(), s.topic(), List.of(crit, inhibited, silenced));
        TestReceiver.await(
            Duration.ofSeconds(20),
            () -> webhookEvents(hook).contains("run-b/loss_spike/critical firing"),
            "the critical at Alertmanager's webhook");
        JsonNode listed =
            new ObjectMapper()
                .readTree(amtool.run("alert", "query", "-a", "-s", "-i", "-o", "json").output());
        assertThat(listed).hasSize(3);
        for (JsonNode a : listed) {
          String run = a.get("labels").get("run").asText();
          String detector = a.get("labels").get("detector").asText();
          String state = a.get("status").get("state").asText();
          assertThat(state)
              .as(run + "/" + detector)
              .isEqualTo(
                  run.equals("run-b") && detector.equals("loss_spike") ? "active" : "suppressed");
          if (run.equals("run-s")) {
            assertThat(a.get("status").get("silencedBy").get(0).asText()).isEqualTo(id);
          }
        }
        Thread.sleep(3 * RESOLVE_TIMEOUT.toMillis());
        assertThat(active(am)).containsExactly("run-b/loss_spike/critical");

        AlertsServiceIT.produce(
            kafka.bootstrapServers(),
            s.topic(),
            List.of(resolved(inhibited, 150), resolved(silenced, 150), resolved(crit, 200)));
        TestReceiver.await(
            Duration.ofSeconds(20),
            () -> webhookEvents(hook).contains("run-b/loss_spike/critical resolved"),
            "the critical resolved");
        Thread.sleep(RESOLVE_TIMEOUT.toMillis());
        // the muted alerts never reached Alertmanager: no firing, and no stray resolved
        assertThat(webhookEvents(hook))
            .containsExactly(
                "run-b/loss_spike/critical firing", "run-b/loss_spike/critical resolved");
        assertThat(active(am)).isEmpty();

        Amtool.Result expired = amtool.run("silence", "expire", id);
        assertThat(expired.exit()).as(expired.errors()).isZero();
        assertThat(amtool.run("silence", "query", "-q").output().strip()).isEmpty();
        assertThat(amtool.run("silence", "query", "-q", "--expired").output().strip())
            .isEqualTo(id);
        // with the silence gone, the same run's next alert reaches Alertmanager
        AlertsServiceIT.produce(
            kafka.bootstrapServers(),
            s.topic(),
            List.of(firing("run-s", "grad_norm_spike", Severity.WARNING, 400)));
        TestReceiver.await(
            Duration.ofSeconds(20),
            () -> webhookEvents(hook).contains("run-s/grad_norm_spike/warning firing"),
            "run-s alert after the silence expired");
      }
    }
  }

  /** {@code amtool} pointed at the alerts service, with basic auth from an http config file. */
  private record Amtool(String url, Path httpConfig) {
    /** {@code output} is stdout; {@code errors} stderr (amtool prints warnings there). */
    record Result(int exit, String output, String errors) {}

    Result run(String... args) throws Exception {
      List<String> cmd =
          new ArrayList<>(
              List.of(AlertmanagerProcess.AMTOOL.toString(), "--alertmanager.url=" + url));
      if (httpConfig != null) {
        cmd.add("--http.config.file=" + httpConfig);
      }
      cmd.addAll(List.of(args));
      Path err = Files.createTempFile("amtool", ".err");
      Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String errors = Files.readString(err);
      Files.delete(err);
      return new Result(p.exitValue(), out, errors);
    }
  }
}
