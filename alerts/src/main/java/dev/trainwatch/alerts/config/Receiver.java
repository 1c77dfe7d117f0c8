package dev.trainwatch.alerts.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A notification target from {@code receivers:}, one record per {@code type}. Each type accepts
 * only its own keys (a {@code timeout} on a stdout receiver is an error, not silently ignored);
 * defaults and checks live in the compact constructors, and a {@link ConfigException} thrown there
 * names the key relative to the receiver ({@code url}), which {@link ConfigLoader} prefixes with
 * the receiver's path ({@code receivers[2].url}). Secrets ({@code bearer_token}, {@code
 * hmac_secret}) may come from {@code *_env} or {@code *_file} keys, resolved before binding.
 *
 * <pre>{@code
 * receivers:
 *   - {name: team, type: webhook, url: 'http://127.0.0.1:5001/hook', timeout: 5s}
 * }</pre>
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = Receiver.Webhook.class, name = "webhook"),
  @JsonSubTypes.Type(value = Receiver.Slack.class, name = "slack"),
  @JsonSubTypes.Type(value = Receiver.Alertmanager.class, name = "alertmanager"),
  @JsonSubTypes.Type(value = Receiver.File.class, name = "file"),
  @JsonSubTypes.Type(value = Receiver.Stdout.class, name = "stdout")
})
public sealed interface Receiver {

  Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  /** Prometheus re-sends firing alerts at least every minute (rules.manager resend delay). */
  Duration DEFAULT_RESEND_INTERVAL = Duration.ofMinutes(1);

  String name();

  /** Whether resolved alerts are sent (default true). */
  Boolean sendResolved();

  /** An Alertmanager in {@code mode: alertmanager}: every change, no routing. */
  default boolean forwardsEverything() {
    return false;
  }

  /** A receiver reached over HTTP(S): POSTs with timeout, optional bearer token and signature. */
  sealed interface Http extends Receiver {
    String url();

    Duration timeout();

    String bearerToken();

    String hmacSecret();

    Map<String, String> headers();

    /** The secret-bearing fields for {@code toString}: which are set, never their values. */
    static String secrets(Http r) {
      return ", bearerToken="
          + (r.bearerToken() == null ? "none" : "<redacted>")
          + ", hmacSecret="
          + (r.hmacSecret() == null ? "none" : "<redacted>")
          + ", headers="
          + r.headers().keySet();
    }
  }

  /** Alertmanager's webhook payload, {@code "version": "4"}. */
  record Webhook(
      String name,
      String url,
      Duration timeout,
      String bearerToken,
      String hmacSecret,
      Boolean sendResolved,
      Integer maxAlerts,
      Map<String, String> headers)
      implements Http {
    public Webhook {
      name = required(name);
      url = httpUrl(url, "webhook");
      timeout = checkedTimeout(timeout);
      sendResolved = sendResolved == null || sendResolved;
      maxAlerts = checkedMaxAlerts(maxAlerts);
      headers = copied(headers);
    }

    /** Secrets and header values are redacted: a receiver may be logged, its token must not be. */
    @Override
    public String toString() {
      return "Webhook[name="
          + name
          + ", url="
          + url
          + ", timeout="
          + timeout
          + ", sendResolved="
          + sendResolved
          + ", maxAlerts="
          + maxAlerts
          + Http.secrets(this)
          + "]";
    }
  }

  /** A Slack incoming-webhook message (text + attachments). */
  record Slack(
      String name,
      String url,
      Duration timeout,
      String bearerToken,
      String hmacSecret,
      Boolean sendResolved,
      Integer maxAlerts,
      Map<String, String> headers)
      implements Http {
    public Slack {
      name = required(name);
      url = httpUrl(url, "slack");
      timeout = checkedTimeout(timeout);
      sendResolved = sendResolved == null || sendResolved;
      maxAlerts = checkedMaxAlerts(maxAlerts);
      headers = copied(headers);
    }

    /** Secrets and header values are redacted: a receiver may be logged, its token must not be. */
    @Override
    public String toString() {
      return "Slack[name="
          + name
          + ", url="
          + url
          + ", timeout="
          + timeout
          + ", sendResolved="
          + sendResolved
          + ", maxAlerts="
          + maxAlerts
          + Http.secrets(this)
          + "]";
    }
  }

  /**
   * A real Alertmanager ({@code POST /api/v2/alerts}). In {@link Mode#TRAINWATCH} it is routed to
   * like any receiver; in {@link Mode#ALERTMANAGER} it gets every change unfiltered and no route
   * may name it. Firing alerts are re-sent every {@code resendInterval} with endsAt {@value
   * #ENDS_AT_INTERVALS} intervals ahead.
   */
  record Alertmanager(
      String name,
      String url,
      Duration timeout,
      String bearerToken,
      String hmacSecret,
      Boolean sendResolved,
      Map<String, String> headers,
      Mode mode,
      Duration resendInterval)
      implements Http {

    /** Prometheus' rule: endsAt = now + 4 x the re-send interval (rules/alerting.go). */
    public static final int ENDS_AT_INTERVALS = 4;

    public Alertmanager {
      name = required(name);
      url = httpUrl(url, "alertmanager");
      timeout = checkedTimeout(timeout);
      sendResolved = sendResolved == null || sendResolved;
      headers = copied(headers);
      mode = mode == null ? Mode.TRAINWATCH : mode;
      resendInterval = resendInterval == null ? DEFAULT_RESEND_INTERVAL : resendInterval;
      if (resendInterval.toMillis() < 100) {
        throw new ConfigException("resend_interval", "must be at least 100ms");
      }
    }

    /** Secrets and header values are redacted: a receiver may be logged, its token must not be. */
    @Override
    public String toString() {
      return "Alertmanager[name="
          + name
          + ", url="
          + url
          + ", timeout="
          + timeout
          + ", sendResolved="
          + sendResolved
          + ", mode="
          + mode
          + ", resendInterval="
          + resendInterval
          + Http.secrets(this)
          + "]";
    }

    @Override
    public boolean forwardsEverything() {
      return mode == Mode.ALERTMANAGER;
    }
  }

  /** Who routes for an {@link Alertmanager} receiver. */
  enum Mode {
    /** trainwatch's tree routes to it (trainwatch groups, inhibits, silences). */
    @JsonProperty("trainwatch")
    TRAINWATCH,
    /** every change forwarded unfiltered; Alertmanager routes. */
    @JsonProperty("alertmanager")
    ALERTMANAGER
  }

  /** Appends the webhook v4 JSON, one line per notification. */
  record File(String name, Path path, Boolean sendResolved, Integer maxAlerts) implements Receiver {
    public File {
      name = required(name);
      if (path == null) {
        throw new ConfigException("path", "is required for type file");
      }
      sendResolved = sendResolved == null || sendResolved;
      maxAlerts = checkedMaxAlerts(maxAlerts);
    }
  }

  /** One summary line per notification (plus one per alert) on standard output. */
  record Stdout(String name, Boolean sendResolved) implements Receiver {
    public Stdout {
      name = required(name);
      sendResolved = sendResolved == null || sendResolved;
    }
  }

  private static String required(String name) {
    if (name == null || name.isBlank()) {
      throw new ConfigException("name", "is required");
    }
    return name;
  }

  private static String httpUrl(String url, String type) {
    if (url == null || !(url.startsWith("http://") || url.startsWith("https://"))) {
      throw new ConfigException("url", "an http(s) URL is required for type " + type);
    }
    return url;
  }

  private static Duration checkedTimeout(Duration timeout) {
    return timeout == null ? DEFAULT_TIMEOUT : ConfigException.positive("timeout", timeout);
  }

  /** 0 = all alerts; more are truncated and counted in {@code truncatedAlerts}. */
  private static int checkedMaxAlerts(Integer n) {
    return n == null ? 0 : ConfigException.inRange("max_alerts", n, 0, 100_000);
  }

  private static Map<String, String> copied(Map<String, String> h) {
    return h == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(h));
  }
}
