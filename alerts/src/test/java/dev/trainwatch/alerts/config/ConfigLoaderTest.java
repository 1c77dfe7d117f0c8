package dev.trainwatch.alerts.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

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
    assertThat(c.receivers().get("team-webhook").bearerToken()).isEqualTo("tok");
    assertThat(c.receivers().get("team-webhook").hmacSecret()).isEqualTo("sec");
    assertThat(c.route().routes()).hasSize(2);
    assertThat(c.route().routes().get(0).groupWait()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.route().routes().get(1).groupWait()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.silences()).hasSize(1);
    assertThat(c.http().auth().configured()).as("the example ships with writes refused").isFalse();
    assertThat(c.http().maxBodyBytes()).isEqualTo(1 << 20);
    assertThat(c.receivers().get("alertmanager").mode()).isEqualTo("trainwatch");
    assertThat(c.receivers().get("alertmanager").resendInterval()).isEqualTo(Duration.ofMinutes(1));
    assertThat(c.links().dashboardUid()).isEqualTo("trainwatch-run");
  }

  @Test
  void apiCredentialsComeFromEnvOrFileAndHalfABasicAuthIsAnError(
      @org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    Path token = tmp.resolve("token");
    java.nio.file.Files.writeString(token, "tok-from-file\n");
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
