package dev.trainwatch.alerts.config;

import dev.trainwatch.alerts.model.Matcher;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The whole configuration of the alerts service, as validated by {@link ConfigLoader}. Every key,
 * its default and its meaning are documented in {@code alerts/alerts.example.yaml}; the defaults
 * live in {@link ConfigLoader} only.
 */
public record AlertsConfig(
    Kafka kafka,
    Http http,
    State state,
    Route route,
    List<InhibitRule> inhibitRules,
    List<SilenceSpec> silences,
    Retry retry,
    Map<String, Receiver> receivers,
    Links links,
    List<String> tagLabels) {

  /** Where alerts come from and where undeliverable notifications go. */
  public record Kafka(
      String bootstrapServers,
      String topic,
      String groupId,
      String deadLetterTopic,
      Map<String, String> properties) {}

  /**
   * The API/metrics listener; port 0 binds an ephemeral port. {@code maxBodyBytes} bounds every
   * request body, {@code idleTimeout} closes a connection that sends nothing, {@code
   * requestTimeout} bounds a whole request (a client trickling bytes cannot hold a thread longer),
   * {@code threads} bounds the handler pool.
   */
  public record Http(
      String listen,
      int port,
      Auth auth,
      int maxBodyBytes,
      Duration idleTimeout,
      Duration requestTimeout,
      int threads) {

    public Http withPort(int p) {
      return new Http(listen, p, auth, maxBodyBytes, idleTimeout, requestTimeout, threads);
    }
  }

  /**
   * API credentials: HTTP basic ({@code username} + {@code password}) and/or a bearer token. Writes
   * (creating or expiring silences) always need one of them; reads only when {@code protectReads}.
   * With no credentials configured, every write is refused.
   */
  public record Auth(String username, String password, String bearerToken, boolean protectReads) {

    public static final Auth NONE = new Auth(null, null, null, false);

    public boolean configured() {
      return bearerToken != null || (username != null && password != null);
    }

    @Override
    public String toString() {
      return "Auth[username="
          + username
          + ", password="
          + (password == null ? "none" : "***")
          + ", bearerToken="
          + (bearerToken == null ? "none" : "***")
          + ", protectReads="
          + protectReads
          + "]";
    }
  }

  /** Directory of the journal (alert state, notification log, API silences). */
  public record State(Path dir) {}

  /** A routing node: first matching child wins unless it sets {@code continue}. */
  public record Route(
      String receiver,
      List<Matcher> matchers,
      List<String> groupBy,
      Duration groupWait,
      Duration groupInterval,
      Duration repeatInterval,
      boolean continueMatching,
      List<Route> routes) {}

  /**
   * A firing alert matching {@code source} mutes alerts matching {@code target} with equal labels.
   */
  public record InhibitRule(List<Matcher> source, List<Matcher> target, List<String> equal) {}

  /** A silence declared in the config file. */
  public record SilenceSpec(
      List<Matcher> matchers, Instant startsAt, Instant endsAt, String createdBy, String comment) {}

  /** Exponential backoff with jitter, bounded by attempts and elapsed time. */
  public record Retry(
      Duration initialBackoff,
      Duration maxBackoff,
      double multiplier,
      double jitter,
      int maxAttempts,
      Duration maxElapsed) {}

  /**
   * A notification target. {@code type} is webhook, slack, alertmanager, file or stdout. For
   * alertmanager, {@code mode} is {@code trainwatch} (notified through the routing tree) or {@code
   * alertmanager} (every change forwarded unfiltered), and firing alerts are re-sent every {@code
   * resendInterval} with endsAt {@value #ENDS_AT_INTERVALS} intervals ahead.
   */
  public record Receiver(
      String name,
      String type,
      String url,
      Path path,
      Duration timeout,
      String bearerToken,
      String hmacSecret,
      boolean sendResolved,
      int maxAlerts,
      Map<String, String> headers,
      String mode,
      Duration resendInterval) {

    /** Prometheus' rule: endsAt = now + 4 x the re-send interval (rules/alerting.go). */
    public static final int ENDS_AT_INTERVALS = 4;

    public boolean forwardsEverything() {
      return "alertmanager".equals(mode);
    }
  }

  /**
   * Where payload links point: the provisioned Grafana run dashboard ({@code dashboardUid}, its
   * {@code run} variable, {@code dashboardWindow} either side of the alert) and the detector docs
   * ({@code docsUrl} + {@code #family}).
   */
  public record Links(
      String grafanaUrl, String dashboardUid, Duration dashboardWindow, String docsUrl) {}

  public AlertsConfig withBootstrapServers(String bootstrap) {
    return new AlertsConfig(
        new Kafka(
            bootstrap, kafka.topic(), kafka.groupId(), kafka.deadLetterTopic(), kafka.properties()),
        http,
        state,
        route,
        inhibitRules,
        silences,
        retry,
        receivers,
        links,
        tagLabels);
  }

  public AlertsConfig withStateDir(Path dir) {
    return new AlertsConfig(
        kafka,
        http,
        new State(dir),
        route,
        inhibitRules,
        silences,
        retry,
        receivers,
        links,
        tagLabels);
  }

  public AlertsConfig withHttpPort(int port) {
    return new AlertsConfig(
        kafka,
        http.withPort(port),
        state,
        route,
        inhibitRules,
        silences,
        retry,
        receivers,
        links,
        tagLabels);
  }
}
