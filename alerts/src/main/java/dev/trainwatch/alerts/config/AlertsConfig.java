package dev.trainwatch.alerts.config;

import dev.trainwatch.alerts.model.Matcher;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The whole configuration of the alerts service, as validated by {@link ConfigLoader}. Every
 * key, its default and its meaning are documented in {@code alerts/alerts.example.yaml}; the
 * defaults live in {@link ConfigLoader} only.
 */
public record AlertsConfig(
    Kafka kafka,
    Http http,
    State state,
    Route route,
    List<InhibitRule> inhibitRules,
    List<SilenceSpec> silences,
    Retry retry,
    Map<String, Receiver> receivers) {

  /** Where alerts come from and where undeliverable notifications go. */
  public record Kafka(String bootstrapServers, String topic, String groupId,
      String deadLetterTopic, Map<String, String> properties) {}

  /** The API/metrics listener; port 0 binds an ephemeral port. */
  public record Http(String listen, int port) {}

  /** Directory of the journal (alert state, notification log, API silences). */
  public record State(Path dir) {}

  /** A routing node: first matching child wins unless it sets {@code continue}. */
  public record Route(String receiver, List<Matcher> matchers, List<String> groupBy,
      Duration groupWait, Duration groupInterval, Duration repeatInterval, boolean continueMatching,
      List<Route> routes) {}

  /** A firing alert matching {@code source} mutes alerts matching {@code target} with equal labels. */
  public record InhibitRule(List<Matcher> source, List<Matcher> target, List<String> equal) {}

  /** A silence declared in the config file. */
  public record SilenceSpec(List<Matcher> matchers, Instant startsAt, Instant endsAt,
      String createdBy, String comment) {}

  /** Exponential backoff with jitter, bounded by attempts and elapsed time. */
  public record Retry(Duration initialBackoff, Duration maxBackoff, double multiplier,
      double jitter, int maxAttempts, Duration maxElapsed) {}

  /** A notification target. {@code type} is webhook, slack, alertmanager, file or stdout. */
  public record Receiver(String name, String type, String url, Path path, Duration timeout,
      String bearerToken, String hmacSecret, boolean sendResolved, int maxAlerts,
      Map<String, String> headers) {}

  public AlertsConfig withBootstrapServers(String bootstrap) {
    return new AlertsConfig(new Kafka(bootstrap, kafka.topic(), kafka.groupId(),
        kafka.deadLetterTopic(), kafka.properties()), http, state, route, inhibitRules, silences,
        retry, receivers);
  }

  public AlertsConfig withStateDir(Path dir) {
    return new AlertsConfig(kafka, http, new State(dir), route, inhibitRules, silences, retry,
        receivers);
  }

  public AlertsConfig withHttpPort(int port) {
    return new AlertsConfig(kafka, new Http(http.listen(), port), state, route, inhibitRules,
        silences, retry, receivers);
  }
}
