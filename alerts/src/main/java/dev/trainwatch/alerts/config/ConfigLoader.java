package dev.trainwatch.alerts.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.trainwatch.alerts.config.AlertsConfig.Auth;
import dev.trainwatch.alerts.config.AlertsConfig.Http;
import dev.trainwatch.alerts.config.AlertsConfig.InhibitRule;
import dev.trainwatch.alerts.config.AlertsConfig.Kafka;
import dev.trainwatch.alerts.config.AlertsConfig.Links;
import dev.trainwatch.alerts.config.AlertsConfig.Receiver;
import dev.trainwatch.alerts.config.AlertsConfig.Retry;
import dev.trainwatch.alerts.config.AlertsConfig.Route;
import dev.trainwatch.alerts.config.AlertsConfig.SilenceSpec;
import dev.trainwatch.alerts.config.AlertsConfig.State;
import dev.trainwatch.alerts.model.Matcher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and validates the one YAML file of the alerts service. All defaults are declared here;
 * every error is a {@link ConfigException} whose message starts with the offending key. Environment
 * variables (passed as a map so tests inject their own) override the file: {@code
 * TRAINWATCH_ALERTS_BOOTSTRAP_SERVERS}, {@code TRAINWATCH_ALERTS_STATE_DIR}, {@code
 * TRAINWATCH_ALERTS_HTTP_PORT}; receiver secrets may come from {@code *_env} keys.
 *
 * <pre>{@code AlertsConfig c = ConfigLoader.load(Path.of("alerts.yaml"), System.getenv());}</pre>
 */
public final class ConfigLoader {

  public static final List<String> DEFAULT_GROUP_BY = List.of("run", "family");
  public static final Duration DEFAULT_GROUP_WAIT = Duration.ofSeconds(30);
  public static final Duration DEFAULT_GROUP_INTERVAL = Duration.ofMinutes(5);
  public static final Duration DEFAULT_REPEAT_INTERVAL = Duration.ofHours(4);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
  static final Set<String> TYPES = Set.of("webhook", "slack", "alertmanager", "file", "stdout");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private ConfigLoader() {}

  public static AlertsConfig load(Path file, Map<String, String> env) {
    try {
      return parse(Files.readString(file), env);
    } catch (IOException e) {
      throw new ConfigException("--config", "cannot read " + file + ": " + e.getMessage());
    }
  }

  public static AlertsConfig parse(String yaml, Map<String, String> env) {
    JsonNode tree;
    try {
      tree = YAML.readTree(yaml);
    } catch (IOException e) {
      throw new ConfigException("<yaml>", "not valid YAML: " + e.getMessage());
    }
    ConfigNode root =
        new ConfigNode("", tree)
            .onlyKeys(
                Set.of(
                    "kafka",
                    "http",
                    "state",
                    "route",
                    "inhibit_rules",
                    "silences",
                    "retry",
                    "receivers",
                    "links",
                    "tag_labels"));
    Map<String, Receiver> receivers = receivers(root.get("receivers"), env);
    Route route = route(root.get("route"), null, receivers);
    if (route.receiver() == null) {
      throw new ConfigException("route.receiver", "is required at the top-level route");
    }
    return new AlertsConfig(
        kafka(root.get("kafka"), env),
        http(root.get("http"), env),
        new State(
            Path.of(
                env.getOrDefault(
                    "TRAINWATCH_ALERTS_STATE_DIR",
                    root.get("state").onlyKeys(Set.of("dir")).get("dir").string("alerts-state")))),
        route,
        inhibitRules(root.get("inhibit_rules")),
        silences(root.get("silences")),
        retry(root.get("retry")),
        receivers,
        links(root.get("links")),
        tagLabels(root.get("tag_labels")));
  }

  /** Run tags that become labels by default: what teams route and silence by. */
  public static final List<String> DEFAULT_TAG_LABELS = List.of("project", "team", "user");

  private static final Set<String> OWN_LABELS =
      Set.of("alertname", "run", "family", "detector", "severity", "affected_task");

  private static List<String> tagLabels(ConfigNode n) {
    List<String> out = n.strings(DEFAULT_TAG_LABELS);
    for (int i = 0; i < out.size(); i++) {
      String t = out.get(i);
      if (!t.matches("[a-zA-Z_][a-zA-Z0-9_]*")) {
        throw new ConfigException(
            "tag_labels[" + i + "]", "'" + t + "' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)");
      }
      if (OWN_LABELS.contains(t)) {
        throw new ConfigException(
            "tag_labels[" + i + "]", "'" + t + "' is a label trainwatch sets itself");
      }
    }
    return List.copyOf(out);
  }

  /** The run dashboard provisioned from grafana/dashboards/run.json. */
  public static final String DEFAULT_DASHBOARD_UID = "trainwatch-run";

  private static Links links(ConfigNode n) {
    n.onlyKeys(Set.of("grafana_url", "dashboard_uid", "dashboard_window", "docs_url"));
    String grafana = n.get("grafana_url").string("http://localhost:3000");
    if (!grafana.isEmpty() && !(grafana.startsWith("http://") || grafana.startsWith("https://"))) {
      throw new ConfigException(
          "links.grafana_url", "must be an http(s) URL (or empty for no link)");
    }
    Duration window = n.get("dashboard_window").duration(Duration.ofMinutes(15));
    if (window.isNegative() || window.isZero()) {
      throw new ConfigException("links.dashboard_window", "must be positive");
    }
    return new Links(
        strip(grafana),
        n.get("dashboard_uid").string(DEFAULT_DASHBOARD_UID),
        window,
        n.get("docs_url").string("docs/detectors.md"));
  }

  private static String strip(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /**
   * The configuration {@code trainwatch demo} uses in-process: every notification printed to {@code
   * stdout} and appended as webhook v4 JSON to {@code notificationsFile}; short timings (group_wait
   * 1s, group_interval 10s) so the demo shows deliveries quickly; API on an ephemeral port.
   */
  public static AlertsConfig demo(String bootstrapServers, Path stateDir, Path notificationsFile) {
    return parse(
        """
        kafka: {bootstrap_servers: '%s'}
        http: {port: 0}
        state: {dir: '%s'}
        route:
          receiver: console
          group_wait: 1s
          group_interval: 10s
          repeat_interval: 1h
          routes:
            - matchers: ['run=~".*"']
              receiver: console
              continue: true
            - matchers: ['run=~".*"']
              receiver: file
        receivers:
          - {name: console, type: stdout}
          - {name: file, type: file, path: '%s'}
        """
            .formatted(bootstrapServers, stateDir, notificationsFile),
        Map.of());
  }

  private static Kafka kafka(ConfigNode n, Map<String, String> env) {
    n.onlyKeys(Set.of("bootstrap_servers", "topic", "group_id", "dead_letter_topic", "properties"));
    String bootstrap =
        env.getOrDefault(
            "TRAINWATCH_ALERTS_BOOTSTRAP_SERVERS",
            n.get("bootstrap_servers").string("localhost:9092"));
    return new Kafka(
        bootstrap,
        n.get("topic").string("trainwatch.alerts"),
        n.get("group_id").string("trainwatch-alerts"),
        n.get("dead_letter_topic").string("trainwatch.alerts.dead-letter"),
        n.get("properties").stringMap());
  }

  private static Http http(ConfigNode n, Map<String, String> env) {
    n.onlyKeys(
        Set.of(
            "listen",
            "port",
            "auth",
            "max_body_bytes",
            "idle_timeout",
            "request_timeout",
            "threads"));
    int port = n.get("port").integer(9095, 0, 65535);
    String override = env.get("TRAINWATCH_ALERTS_HTTP_PORT");
    if (override != null) {
      try {
        port = Integer.parseInt(override);
      } catch (NumberFormatException e) {
        throw new ConfigException("TRAINWATCH_ALERTS_HTTP_PORT", "must be an integer");
      }
    }
    Duration idle = n.get("idle_timeout").duration(Duration.ofSeconds(30));
    Duration request = n.get("request_timeout").duration(Duration.ofSeconds(10));
    if (idle.isZero() || idle.isNegative() || request.isZero() || request.isNegative()) {
      throw new ConfigException(
          n.path() + (idle.isZero() || idle.isNegative() ? ".idle_timeout" : ".request_timeout"),
          "must be positive");
    }
    // 1 MiB: a silence with hundreds of matchers is a few KB
    return new Http(
        n.get("listen").string("127.0.0.1"),
        port,
        auth(n.get("auth"), env),
        n.get("max_body_bytes").integer(1 << 20, 1024, 64 << 20),
        idle,
        request,
        n.get("threads").integer(8, 2, 256));
  }

  private static Auth auth(ConfigNode n, Map<String, String> env) {
    n.onlyKeys(
        Set.of(
            "username",
            "password",
            "password_env",
            "password_file",
            "bearer_token",
            "bearer_token_env",
            "bearer_token_file",
            "protect_reads"));
    String user = n.get("username").string(null);
    String password = fileOrEnvSecret(n, "password", env);
    if ((user == null) != (password == null)) {
      throw new ConfigException(
          n.path() + (user == null ? ".username" : ".password"),
          "basic auth needs both username and password");
    }
    Auth a =
        new Auth(
            user,
            password,
            fileOrEnvSecret(n, "bearer_token", env),
            n.get("protect_reads").bool(false));
    if (a.protectReads() && !a.configured()) {
      throw new ConfigException(n.path() + ".protect_reads", "needs a password or bearer token");
    }
    return a;
  }

  /** {@code key}, {@code key_env} or {@code key_file} (at most one); null when none is set. */
  private static String fileOrEnvSecret(ConfigNode n, String key, Map<String, String> env) {
    String file = n.get(key + "_file").string(null);
    if (file == null) {
      return secret(n, key, env);
    }
    if (n.get(key).present() || n.get(key + "_env").present()) {
      throw new ConfigException(
          n.path() + "." + key + "_file",
          "set only one of " + key + ", " + key + "_env, " + key + "_file");
    }
    try {
      String v = Files.readString(Path.of(file)).strip();
      if (v.isEmpty()) {
        throw new ConfigException(n.path() + "." + key + "_file", file + " is empty");
      }
      return v;
    } catch (IOException e) {
      throw new ConfigException(n.path() + "." + key + "_file", "cannot read " + file + ": " + e);
    }
  }

  private static Route route(ConfigNode n, Route parent, Map<String, Receiver> receivers) {
    n.onlyKeys(
        Set.of(
            "receiver",
            "matchers",
            "group_by",
            "group_wait",
            "group_interval",
            "repeat_interval",
            "continue",
            "routes"));
    if (!n.present() && parent == null) {
      throw new ConfigException("route", "is required (at least route.receiver)");
    }
    String receiver = n.get("receiver").string(parent == null ? null : parent.receiver());
    if (receiver != null && !receivers.containsKey(receiver)) {
      throw new ConfigException(
          n.path() + ".receiver",
          "unknown receiver '" + receiver + "'; defined: " + receivers.keySet());
    }
    if (receiver != null && receivers.get(receiver).forwardsEverything()) {
      throw new ConfigException(
          n.path() + ".receiver",
          "receiver '"
              + receiver
              + "' has mode "
              + "alertmanager: it gets every change without routing, so no route may name it");
    }
    Duration groupWait =
        n.get("group_wait").duration(parent == null ? DEFAULT_GROUP_WAIT : parent.groupWait());
    Duration groupInterval =
        n.get("group_interval")
            .duration(parent == null ? DEFAULT_GROUP_INTERVAL : parent.groupInterval());
    Duration repeat =
        n.get("repeat_interval")
            .duration(parent == null ? DEFAULT_REPEAT_INTERVAL : parent.repeatInterval());
    if (groupInterval.isZero() || groupInterval.isNegative()) {
      throw new ConfigException(n.path() + ".group_interval", "must be positive");
    }
    List<String> groupBy =
        n.get("group_by").strings(parent == null ? DEFAULT_GROUP_BY : parent.groupBy());
    Route self =
        new Route(
            receiver,
            n.get("matchers").parsedStrings(Matcher::parse),
            groupBy,
            groupWait,
            groupInterval,
            repeat,
            n.get("continue").bool(false),
            List.of());
    List<Route> children = new ArrayList<>();
    for (ConfigNode c : n.get("routes").list()) {
      children.add(route(c, self, receivers));
    }
    return new Route(
        receiver,
        self.matchers(),
        groupBy,
        groupWait,
        groupInterval,
        repeat,
        self.continueMatching(),
        children);
  }

  private static List<InhibitRule> inhibitRules(ConfigNode n) {
    if (!n.present()) {
      // the default: a critical mutes the warnings of the same run and family
      return List.of(
          new InhibitRule(
              List.of(Matcher.parse("severity=\"critical\"")),
              List.of(Matcher.parse("severity=\"warning\"")),
              List.of("run", "family")));
    }
    List<InhibitRule> out = new ArrayList<>();
    for (ConfigNode r : n.list()) {
      r.onlyKeys(Set.of("source_matchers", "target_matchers", "equal"));
      List<Matcher> src = r.get("source_matchers").parsedStrings(Matcher::parse);
      List<Matcher> dst = r.get("target_matchers").parsedStrings(Matcher::parse);
      if (src.isEmpty() || dst.isEmpty()) {
        throw new ConfigException(
            r.path() + (src.isEmpty() ? ".source_matchers" : ".target_matchers"),
            "needs at least one matcher");
      }
      out.add(new InhibitRule(src, dst, r.get("equal").strings(List.of())));
    }
    return out;
  }

  private static List<SilenceSpec> silences(ConfigNode n) {
    List<SilenceSpec> out = new ArrayList<>();
    for (ConfigNode s : n.list()) {
      s.onlyKeys(Set.of("matchers", "starts_at", "ends_at", "created_by", "comment"));
      List<Matcher> m = s.get("matchers").parsedStrings(Matcher::parse);
      if (m.isEmpty()) {
        throw new ConfigException(s.path() + ".matchers", "needs at least one matcher");
      }
      SilenceSpec spec =
          new SilenceSpec(
              m,
              s.get("starts_at").instant(),
              s.get("ends_at").instant(),
              s.get("created_by").string("config"),
              s.get("comment").string(""));
      if (!spec.endsAt().isAfter(spec.startsAt())) {
        throw new ConfigException(s.path() + ".ends_at", "must be after starts_at");
      }
      out.add(spec);
    }
    return out;
  }

  private static Retry retry(ConfigNode n) {
    n.onlyKeys(
        Set.of(
            "initial_backoff",
            "max_backoff",
            "multiplier",
            "jitter",
            "max_attempts",
            "max_elapsed"));
    return new Retry(
        n.get("initial_backoff").duration(Duration.ofMillis(500)),
        n.get("max_backoff").duration(Duration.ofSeconds(30)),
        n.get("multiplier").decimal(2.0, 1.0, 10.0),
        n.get("jitter").decimal(0.2, 0.0, 1.0),
        n.get("max_attempts").integer(10, 1, 1000),
        n.get("max_elapsed").duration(Duration.ofMinutes(5)));
  }

  private static Map<String, Receiver> receivers(ConfigNode n, Map<String, String> env) {
    Map<String, Receiver> out = new LinkedHashMap<>();
    if (n.list().isEmpty()) {
      throw new ConfigException("receivers", "at least one receiver is required");
    }
    for (ConfigNode r : n.list()) {
      Receiver rc = receiver(r, env);
      if (out.put(rc.name(), rc) != null) {
        throw new ConfigException(
            r.path() + ".name", "duplicate receiver name '" + rc.name() + "'");
      }
    }
    return out;
  }

  private static Receiver receiver(ConfigNode r, Map<String, String> env) {
    r.onlyKeys(
        Set.of(
            "name",
            "type",
            "url",
            "path",
            "timeout",
            "bearer_token",
            "bearer_token_env",
            "hmac_secret",
            "hmac_secret_env",
            "send_resolved",
            "max_alerts",
            "headers",
            "mode",
            "resend_interval"));
    String name = r.get("name").requiredString();
    String type = r.get("type").requiredString();
    if (!TYPES.contains(type)) {
      throw new ConfigException(
          r.path() + ".type",
          "unknown type '" + type + "'; expected one of " + new java.util.TreeSet<>(TYPES));
    }
    String url = r.get("url").string(null);
    boolean http = type.equals("webhook") || type.equals("slack") || type.equals("alertmanager");
    if (http) {
      if (url == null || !(url.startsWith("http://") || url.startsWith("https://"))) {
        throw new ConfigException(r.path() + ".url", "an http(s) URL is required for type " + type);
      }
    }
    String path = r.get("path").string(null);
    if (type.equals("file") && path == null) {
      throw new ConfigException(r.path() + ".path", "is required for type file");
    }
    String mode = r.get("mode").string(type.equals("alertmanager") ? "trainwatch" : null);
    if (mode != null && !type.equals("alertmanager")) {
      throw new ConfigException(r.path() + ".mode", "applies to type alertmanager only");
    }
    if (mode != null && !Set.of("trainwatch", "alertmanager").contains(mode)) {
      throw new ConfigException(
          r.path() + ".mode",
          "must be trainwatch (trainwatch routes) or "
              + "alertmanager (every change forwarded, Alertmanager routes), got '"
              + mode
              + "'");
    }
    // Prometheus re-sends firing alerts at least every minute (rules.manager resend delay)
    Duration resend = r.get("resend_interval").duration(Duration.ofMinutes(1));
    if (resend.toMillis() < 100) {
      throw new ConfigException(r.path() + ".resend_interval", "must be at least 100ms");
    }
    return new Receiver(
        name,
        type,
        url,
        path == null ? null : Path.of(path),
        r.get("timeout").duration(DEFAULT_TIMEOUT),
        secret(r, "bearer_token", env),
        secret(r, "hmac_secret", env),
        r.get("send_resolved").bool(true),
        r.get("max_alerts").integer(0, 0, 100_000),
        r.get("headers").stringMap(),
        mode,
        resend);
  }

  private static String secret(ConfigNode r, String key, Map<String, String> env) {
    String inline = r.get(key).string(null);
    String var = r.get(key + "_env").string(null);
    if (var == null) {
      return inline;
    }
    String v = env.get(var);
    if (v == null || v.isEmpty()) {
      throw new ConfigException(
          r.path() + "." + key + "_env", "environment variable " + var + " is not set");
    }
    return v;
  }
}
