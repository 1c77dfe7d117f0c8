package dev.trainwatch.alerts.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {

  private static final String MINIMAL =
      """
      route:
        receiver: console
      receivers:
        - name: console
          type: stdout
      """;

  @Test
  void exampleConfigLoadsWithEveryKey() {
    Path example = Path.of("alerts.example.yaml");
    AlertsConfig c =
        ConfigLoader.load(example, Map.of("TEAM_HOOK_TOKEN", "tok", "TEAM_HOOK_SECRET", "sec"));

    assertThat(c.receivers())
        .containsKeys("console", "file-log", "team-webhook", "slack", "alertmanager");
    assertThat(c.receivers().get("team-webhook"))
        .isEqualTo(
            new Receiver.Webhook(
                "team-webhook",
                "http://127.0.0.1:5001/hook",
                Duration.ofSeconds(10),
                "tok",
                "sec",
                true,
                0,
                Map.of("X-Team", "ml-infra")));
    assertThat(c.receivers().get("console")).isEqualTo(new Receiver.Stdout("console", true));
    assertThat(c.receivers().get("file-log"))
        .isEqualTo(new Receiver.File("file-log", Path.of("alerts-notifications.jsonl"), true, 0));
    assertThat(c.receivers().get("slack")).isInstanceOf(Receiver.Slack.class);
    assertThat(c.route().routes()).hasSize(2);
    assertThat(c.route().routes().get(0).groupWait()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.route().routes().get(1).groupWait()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.silences()).hasSize(1);
    assertThat(c.http().auth().configured()).as("the example ships with writes refused").isFalse();
    assertThat(c.http().maxBodyBytes()).isEqualTo(1 << 20);
    Receiver.Alertmanager am = (Receiver.Alertmanager) c.receivers().get("alertmanager");
    assertThat(am.mode()).isEqualTo(Receiver.Mode.TRAINWATCH);
    assertThat(am.forwardsEverything()).isFalse();
    assertThat(am.resendInterval()).isEqualTo(Duration.ofMinutes(1));
    assertThat(c.links().dashboardUid()).isEqualTo("trainwatch-run");
  }

  @Test
  void apiCredentialsComeFromEnvOrFileAndHalfABasicAuthIsAnError(
      @org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    Path token = tmp.resolve("token");
    Files.writeString(token, "tok-from-file\n");
    AlertsConfig c =
        ConfigLoader.parse(
            MINIMAL + "http: {auth: {bearer_token_file: '" + token + "'}}\n", Map.of());
    assertThat(c.http().auth().bearerToken()).isEqualTo("tok-from-file");
    AlertsConfig basic =
        ConfigLoader.parse(
            MINIMAL + "http: {auth: {username: oncall, password_env: PW}}\n",
            Map.of("PW", "s3cret"));
    assertThat(basic.http().auth().password()).isEqualTo("s3cret");
    assertThat(basic.http().auth().toString()).doesNotContain("s3cret");
    assertThatThrownBy(
            () -> ConfigLoader.parse(MINIMAL + "http: {auth: {username: u}}\n", Map.of()))
        .hasMessageStartingWith("http.auth.password");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    MINIMAL + "http: {auth: {password_env: NOPE, username: u}}\n", Map.of()))
        .hasMessageStartingWith("http.auth.password_env");
    assertThatThrownBy(
            () -> ConfigLoader.parse(MINIMAL + "http: {auth: {protect_reads: true}}\n", Map.of()))
        .hasMessageStartingWith("http.auth.protect_reads");
  }

  @Test
  void tagLabelsDefaultToProjectTeamUserAndMustBeLabelNamesNotOurOwn() {
    assertThat(ConfigLoader.parse(MINIMAL, Map.of()).tagLabels())
        .containsExactly("project", "team", "user");
    assertThat(ConfigLoader.parse(MINIMAL + "tag_labels: []\n", Map.of()).tagLabels()).isEmpty();
    assertThatThrownBy(
            () -> ConfigLoader.parse(MINIMAL + "tag_labels: [team, model.size]\n", Map.of()))
        .hasMessageStartingWith("tag_labels[1]");
    assertThatThrownBy(() -> ConfigLoader.parse(MINIMAL + "tag_labels: [severity]\n", Map.of()))
        .hasMessageStartingWith("tag_labels[0]");
  }

  @Test
  void forwardModeReceiverMayNotBeRouted() {
    String yaml =
        """
        route: {receiver: am}
        receivers:
          - {name: am, type: alertmanager, url: 'http://127.0.0.1:9093/api/v2/alerts', mode: alertmanager}
        """;
    assertThatThrownBy(() -> ConfigLoader.parse(yaml, Map.of()))
        .hasMessageStartingWith("route.receiver")
        .hasMessageContaining("mode alertmanager");
    assertThatThrownBy(
            () -> ConfigLoader.parse(yaml.replace("mode: alertmanager", "mode: both"), Map.of()))
        .hasMessageStartingWith("receivers[0].mode");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "route: {receiver: c}\nreceivers:\n"
                        + "  - {name: c, type: stdout, mode: trainwatch}\n",
                    Map.of()))
        .hasMessageStartingWith("receivers[0].mode");
  }

  @Test
  void defaultsMatchAlertmanagerAndTheIssue() {
    AlertsConfig c = ConfigLoader.parse(MINIMAL, Map.of());

    assertThat(c.route().groupBy()).containsExactly("run", "family");
    assertThat(c.route().groupWait()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.route().groupInterval()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.route().repeatInterval()).isEqualTo(Duration.ofHours(4));
    assertThat(c.kafka().topic()).isEqualTo("trainwatch.alerts");
    assertThat(c.kafka().deadLetterTopic()).isEqualTo("trainwatch.alerts.dead-letter");
    assertThat(c.http().listen()).isEqualTo("127.0.0.1");
    assertThat(c.inhibitRules()).hasSize(1);
  }

  @Test
  void environmentOverridesTheFile() {
    AlertsConfig c =
        ConfigLoader.parse(
            MINIMAL,
            Map.of(
                "TRAINWATCH_ALERTS_BOOTSTRAP_SERVERS", "k:1", "TRAINWATCH_ALERTS_HTTP_PORT", "0"));
    assertThat(c.kafka().bootstrapServers()).isEqualTo("k:1");
    assertThat(c.http().port()).isZero();
  }

  static Stream<Arguments> invalidConfigs() {
    String rx = "receivers: [{name: a, type: stdout}]\n";
    return Stream.of(
        arguments("route.group_wait", "route: {receiver: a, group_wait: soon}\n" + rx),
        arguments(
            "route.routes[0].receiver",
            "route: {receiver: a, routes: [{receiver: nobody}]}\n" + rx),
        arguments(
            "route.routes[0].matchers[0]",
            "route: {receiver: a, routes: [{matchers: ['severity~x']}]}\n" + rx),
        arguments(
            "receivers[0].url", "route: {receiver: a}\nreceivers: [{name: a, type: webhook}]\n"),
        arguments(
            "receivers[0].type", "route: {receiver: a}\nreceivers: [{name: a, type: pager}]\n"),
        arguments(
            "receivers[0].timeoutt",
            "route: {receiver: a}\nreceivers: [{name: a, type: stdout, timeoutt: 1s}]\n"),
        arguments(
            "receivers[1].name",
            "route: {receiver: a}\nreceivers: [{name: a, type: stdout}, {name: a, type: stdout}]\n"),
        arguments("retry.jitter", "route: {receiver: a}\nretry: {jitter: 2}\n" + rx),
        arguments("http.port", "route: {receiver: a}\nhttp: {port: 70000}\n" + rx),
        arguments(
            "receivers[0].bearer_token_env",
            "route: {receiver: a}\n"
                + "receivers: [{name: a, type: webhook, url: 'http://x', bearer_token_env: NOPE}]\n"),
        arguments(
            "silences[0].ends_at",
            "route: {receiver: a}\nsilences: [{matchers: ['run=\"x\"'], "
                + "starts_at: '2026-01-02T00:00:00Z', ends_at: '2026-01-01T00:00:00Z'}]\n"
                + rx),
        arguments("kafkaa", "route: {receiver: a}\nkafkaa: {}\n" + rx),
        arguments("route", rx));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidConfigs")
  void validationErrorNamesTheKey(String key, String yaml) {
    assertThatThrownBy(() -> ConfigLoader.parse(yaml, Map.of()))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo(key))
        .hasMessageStartingWith(key + ": ");
  }

  static Stream<Arguments> messages() {
    String rx = "receivers: [{name: a, type: stdout}]\n";
    String top = "route: {receiver: a}\n";
    return Stream.of(
        arguments(
            top + "receivers: [{name: a, type: pager}]\n",
            "receivers[0].type: unknown type 'pager'; "
                + "expected one of [alertmanager, file, slack, stdout, webhook]"),
        arguments(
            top + "receivers: [{name: a}]\n",
            "receivers[0].type: is required; one of [alertmanager, file, slack, stdout, webhook]"),
        arguments(
            top + "receivers: [{name: a, type: stdout, timeout: 1s}]\n",
            "receivers[0].timeout: unknown key; expected one of [name, send_resolved, type]"),
        arguments(
            top + "receivers: [{name: a, type: alertmanager, url: 'http://x', mode: both}]\n",
            "receivers[0].mode: must be one of [trainwatch, alertmanager], got 'both'"),
        arguments(
            top + "retry: {max_attempts: 2.5}\n" + rx,
            "retry.max_attempts: must be an integer, got '2.5'"),
        arguments(
            top + "http: {auth: {protect_reads: maybe}}\n" + rx,
            "http.auth.protect_reads: must be true or false, got 'maybe'"),
        arguments(top + "http: [1]\n" + rx, "http: must be a mapping"),
        arguments("route: {receiver: a, group_by: run}\n" + rx, "route.group_by: must be a list"),
        arguments(
            "route: {receiver: a, routes: [{group_interval: 0s}]}\n" + rx,
            "route.routes[0].group_interval: must be positive"),
        arguments(
            top
                + "silences: [{matchers: ['run=\"x\"'], starts_at: tomorrow, "
                + "ends_at: '2026-01-01T00:00:00Z'}]\n"
                + rx,
            "silences[0].starts_at: must be an RFC 3339 time like 2026-01-01T00:00:00Z"),
        arguments(
            top
                + "receivers: [{name: a, type: webhook, url: 'http://x', "
                + "bearer_token: x, bearer_token_env: T}]\n",
            "receivers[0].bearer_token_env: set only one of "
                + "bearer_token, bearer_token_env, bearer_token_file"),
        arguments("[1, 2]", "<root>: must be a mapping"));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("messages")
  void errorSaysWhatWouldBeValid(String yaml, String message) {
    assertThatThrownBy(() -> ConfigLoader.parse(yaml, Map.of())).hasMessage(message);
  }

  @Test
  void receiverSecretsComeFromEnvOrFileAndStateDirFromEnv(
      @org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    Path secret = tmp.resolve("hmac");
    Files.writeString(secret, "from-file\n");
    AlertsConfig c =
        ConfigLoader.parse(
            "route: {receiver: a}\nreceivers: [{name: a, type: slack, url: 'https://x', "
                + "bearer_token_env: TOK, hmac_secret_file: '"
                + secret
                + "'}]\n",
            Map.of("TOK", "from-env", "TRAINWATCH_ALERTS_STATE_DIR", "/var/lib/alerts"));
    Receiver.Slack slack = (Receiver.Slack) c.receivers().get("a");
    assertThat(slack.bearerToken()).isEqualTo("from-env");
    assertThat(slack.hmacSecret()).isEqualTo("from-file");
    assertThat(c.state().dir()).isEqualTo(Path.of("/var/lib/alerts"));
    assertThat(slack.toString())
        .doesNotContain("from-env", "from-file")
        .contains("bearerToken=<redacted>", "hmacSecret=<redacted>", "url=https://x");
  }

  @Test
  void receiversNeverPrintTheirSecrets() {
    AlertsConfig c =
        ConfigLoader.parse(
            "route: {receiver: w}\nreceivers: [{name: w, type: webhook, url: 'http://x', "
                + "bearer_token: s3cret, headers: {X-Api-Key: k3y}}, "
                + "{name: am, type: alertmanager, url: 'http://am', hmac_secret: h4c}]\n",
            Map.of());
    assertThat(c.receivers().values())
        .allSatisfy(r -> assertThat(r.toString()).doesNotContain("s3cret", "k3y", "h4c"));
    assertThat(c.receivers().get("w").toString()).contains("headers=[X-Api-Key]");
  }

  @Test
  void durationsAcceptPrometheusSyntax() {
    assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(List.of("", "5", "5x", "m5"))
        .allSatisfy(
            s ->
                assertThatThrownBy(() -> Durations.parse(s))
                    .isInstanceOf(IllegalArgumentException.class));
  }
}
