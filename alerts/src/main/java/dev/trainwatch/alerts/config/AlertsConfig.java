package dev.trainwatch.alerts.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.trainwatch.alerts.model.Matcher;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole configuration of the alerts service, as validated by {@link ConfigLoader}. Every key,
 * its default and its meaning are documented in {@code alerts/alerts.example.yaml}. The sections
 * are bound from YAML by Jackson (keys in snake_case: {@code group_wait} is {@code groupWait});
 * each record declares its defaults (a null component, i.e. an absent key, gets the default) and
 * checks its values in its compact constructor, throwing a {@link ConfigException} whose key is
 * relative to the section. The routing tree is bound as {@code RouteSpec} and resolved into {@link
 * Route} (children inherit) by {@code AlertsFile}.
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
      Map<String, String> properties) {
    public Kafka {
      bootstrapServers = bootstrapServers == null ? "localhost:9092" : bootstrapServers;
      topic = topic == null ? "trainwatch.alerts" : topic;
      groupId = groupId == null ? "trainwatch-alerts" : groupId;
      deadLetterTopic = deadLetterTopic == null ? "trainwatch.alerts.dead-letter" : deadLetterTopic;
      properties =
          properties == null
              ? Map.of()
              : Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    }
  }

  /**
   * The API/metrics listener; port 0 binds an ephemeral port. {@code maxBodyBytes} bounds every
   * request body, {@code idleTimeout} closes a connection that sends nothing, {@code
   * requestTimeout} bounds a whole request (a client trickling bytes cannot hold a thread longer),
   * {@code threads} bounds the handler pool.
   */
  public record Http(
      String listen,
      Integer port,
      Auth auth,
      Integer maxBodyBytes,
      Duration idleTimeout,
      Duration requestTimeout,
      Integer threads) {

    public Http {
      listen = listen == null ? "127.0.0.1" : listen;
      port = ConfigException.inRange("port", port == null ? 9095 : port, 0, 65535);
      auth = auth == null ? Auth.NONE : auth;
      // 1 MiB: a silence with hundreds of matchers is a few KB
      maxBodyBytes =
          ConfigException.inRange(
              "max_body_bytes", maxBodyBytes == null ? 1 << 20 : maxBodyBytes, 1024, 64 << 20);
      idleTimeout =
          ConfigException.positive(
              "idle_timeout", idleTimeout == null ? Duration.ofSeconds(30) : idleTimeout);
      requestTimeout =
          ConfigException.positive(
              "request_timeout", requestTimeout == null ? Duration.ofSeconds(10) : requestTimeout);
      threads = ConfigException.inRange("threads", threads == null ? 8 : threads, 2, 256);
    }

    public Http withPort(int p) {
      return new Http(listen, p, auth, maxBodyBytes, idleTimeout, requestTimeout, threads);
    }
  }

  /**
   * API credentials: HTTP basic ({@code username} + {@code password}) and/or a bearer token. Writes
   * (creating or expiring silences) always need one of them; reads only when {@code protectReads}.
   * With no credentials configured, every write is refused.
   */
  public record Auth(String username, String password, String bearerToken, Boolean protectReads) {

    public static final Auth NONE = new Auth(null, null, null, false);

    public Auth {
      if ((username == null) != (password == null)) {
        throw new ConfigException(
            username == null ? "username" : "password",
            "basic auth needs both username and password");
      }
      protectReads = protectReads != null && protectReads;
      if (protectReads && bearerToken == null && username == null) {
        throw new ConfigException("protect_reads", "needs a password or bearer token");
      }
    }

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
  public record State(Path dir) {
    public State {
      dir = dir == null ? Path.of("alerts-state") : dir;
    }
  }

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
  public record InhibitRule(
      @JsonProperty("source_matchers") List<Matcher> source,
      @JsonProperty("target_matchers") List<Matcher> target,
      List<String> equal) {

    /** The default: a critical mutes the warnings of the same run and family. */
    public static final List<InhibitRule> DEFAULTS =
        List.of(
            new InhibitRule(
                List.of(Matcher.parse("severity=\"critical\"")),
                List.of(Matcher.parse("severity=\"warning\"")),
                List.of("run", "family")));

    public InhibitRule {
      if (source == null || source.isEmpty()) {
        throw new ConfigException("source_matchers", "needs at least one matcher");
      }
      if (target == null || target.isEmpty()) {
        throw new ConfigException("target_matchers", "needs at least one matcher");
      }
      source = List.copyOf(source);
      target = List.copyOf(target);
      equal = equal == null ? List.of() : List.copyOf(equal);
    }
  }

  /** A silence declared in the config file. */
  public record SilenceSpec(
      List<Matcher> matchers, Instant startsAt, Instant endsAt, String createdBy, String comment) {
    public SilenceSpec {
      if (matchers == null || matchers.isEmpty()) {
        throw new ConfigException("matchers", "needs at least one matcher");
      }
      if (startsAt == null || endsAt == null) {
        throw new ConfigException(startsAt == null ? "starts_at" : "ends_at", "is required");
      }
      if (!endsAt.isAfter(startsAt)) {
        throw new ConfigException("ends_at", "must be after starts_at");
      }
      matchers = List.copyOf(matchers);
      createdBy = createdBy == null ? "config" : createdBy;
      comment = comment == null ? "" : comment;
    }
  }

  /** Exponential backoff with jitter, bounded by attempts and elapsed time. */
  public record Retry(
      Duration initialBackoff,
      Duration maxBackoff,
      Double multiplier,
      Double jitter,
      Integer maxAttempts,
      Duration maxElapsed) {
    public Retry {
      initialBackoff = initialBackoff == null ? Duration.ofMillis(500) : initialBackoff;
      maxBackoff = maxBackoff == null ? Duration.ofSeconds(30) : maxBackoff;
      multiplier =
          ConfigException.inRange("multiplier", multiplier == null ? 2.0 : multiplier, 1, 10);
      jitter = ConfigException.inRange("jitter", jitter == null ? 0.2 : jitter, 0, 1);
      maxAttempts =
          ConfigException.inRange("max_attempts", maxAttempts == null ? 10 : maxAttempts, 1, 1000);
      maxElapsed = maxElapsed == null ? Duration.ofMinutes(5) : maxElapsed;
    }
  }

  /**
   * Where payload links point: the provisioned Grafana run dashboard ({@code dashboardUid}, its
   * {@code run} variable, {@code dashboardWindow} either side of the alert) and the detector docs
   * ({@code docsUrl} + {@code #detector}, or {@code #family} for an alert without a detector
   * label).
   */
  public record Links(
      String grafanaUrl, String dashboardUid, Duration dashboardWindow, String docsUrl) {

    /** The run dashboard provisioned from grafana/dashboards/run.json. */
    public static final String DEFAULT_DASHBOARD_UID = "trainwatch-run";

    public Links {
      grafanaUrl = grafanaUrl == null ? "http://localhost:3000" : grafanaUrl;
      if (!grafanaUrl.isEmpty()
          && !(grafanaUrl.startsWith("http://") || grafanaUrl.startsWith("https://"))) {
        throw new ConfigException("grafana_url", "must be an http(s) URL (or empty for no link)");
      }
      if (grafanaUrl.endsWith("/")) {
        grafanaUrl = grafanaUrl.substring(0, grafanaUrl.length() - 1);
      }
      dashboardUid = dashboardUid == null ? DEFAULT_DASHBOARD_UID : dashboardUid;
      dashboardWindow =
          ConfigException.positive(
              "dashboard_window",
              dashboardWindow == null ? Duration.ofMinutes(15) : dashboardWindow);
      docsUrl = docsUrl == null ? "docs/detectors.md" : docsUrl;
    }
  }

  public AlertsConfig withBootstrapServers(String bootstrap) {
    return with(
        new Kafka(
            bootstrap, kafka.topic(), kafka.groupId(), kafka.deadLetterTopic(), kafka.properties()),
        http,
        state);
  }

  public AlertsConfig withStateDir(Path dir) {
    return with(kafka, http, new State(dir));
  }

  public AlertsConfig withHttpPort(int port) {
    return with(kafka, http.withPort(port), state);
  }

  private AlertsConfig with(Kafka k, Http h, State s) {
    return new AlertsConfig(
        k, h, s, route, inhibitRules, silences, retry, receivers, links, tagLabels);
  }
}
