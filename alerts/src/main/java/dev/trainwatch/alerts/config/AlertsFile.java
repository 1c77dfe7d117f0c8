package dev.trainwatch.alerts.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.trainwatch.alerts.config.AlertsConfig.Http;
import dev.trainwatch.alerts.config.AlertsConfig.InhibitRule;
import dev.trainwatch.alerts.config.AlertsConfig.Kafka;
import dev.trainwatch.alerts.config.AlertsConfig.Links;
import dev.trainwatch.alerts.config.AlertsConfig.Retry;
import dev.trainwatch.alerts.config.AlertsConfig.Route;
import dev.trainwatch.alerts.config.AlertsConfig.SilenceSpec;
import dev.trainwatch.alerts.config.AlertsConfig.State;
import dev.trainwatch.alerts.model.Matcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shape of {@code alerts.yaml} as Jackson binds it: the sections of {@link AlertsConfig}, the
 * receivers as a list and the routing tree as {@link RouteSpec}s whose absent keys inherit from the
 * parent. {@link #toConfig()} checks what spans sections (route receivers exist) and resolves the
 * tree. Keys of the errors thrown here are absolute ({@code route.routes[0].receiver}).
 */
record AlertsFile(
    Kafka kafka,
    Http http,
    State state,
    RouteSpec route,
    List<InhibitRule> inhibitRules,
    List<SilenceSpec> silences,
    Retry retry,
    List<Receiver> receivers,
    Links links,
    List<String> tagLabels) {

  static final List<String> DEFAULT_GROUP_BY = List.of("run", "family");
  static final Duration DEFAULT_GROUP_WAIT = Duration.ofSeconds(30);
  static final Duration DEFAULT_GROUP_INTERVAL = Duration.ofMinutes(5);
  static final Duration DEFAULT_REPEAT_INTERVAL = Duration.ofHours(4);

  /** Run tags that become labels by default: what teams route and silence by. */
  static final List<String> DEFAULT_TAG_LABELS = List.of("project", "team", "user");

  private static final Set<String> OWN_LABELS =
      Set.of("alertname", "run", "family", "detector", "severity", "affected_task");

  AlertsFile {
    kafka = kafka == null ? new Kafka(null, null, null, null, null) : kafka;
    http = http == null ? new Http(null, null, null, null, null, null, null) : http;
    state = state == null ? new State(null) : state;
    if (route == null) {
      throw new ConfigException("route", "is required (at least route.receiver)");
    }
    // absent: the default rule; []: none
    inhibitRules = inhibitRules == null ? InhibitRule.DEFAULTS : List.copyOf(inhibitRules);
    silences = silences == null ? List.of() : List.copyOf(silences);
    retry = retry == null ? new Retry(null, null, null, null, null, null) : retry;
    if (receivers == null || receivers.isEmpty()) {
      throw new ConfigException("receivers", "at least one receiver is required");
    }
    links = links == null ? new Links(null, null, null, null) : links;
    tagLabels = tagLabels == null ? DEFAULT_TAG_LABELS : List.copyOf(tagLabels);
    for (int i = 0; i < tagLabels.size(); i++) {
      String t = tagLabels.get(i);
      if (!t.matches("[a-zA-Z_][a-zA-Z0-9_]*")) {
        throw new ConfigException(
            "tag_labels[" + i + "]", "'" + t + "' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)");
      }
      if (OWN_LABELS.contains(t)) {
        throw new ConfigException(
            "tag_labels[" + i + "]", "'" + t + "' is a label trainwatch sets itself");
      }
    }
  }

  AlertsConfig toConfig() {
    Map<String, Receiver> byName = new LinkedHashMap<>();
    for (int i = 0; i < receivers.size(); i++) {
      Receiver r = receivers.get(i);
      if (byName.put(r.name(), r) != null) {
        throw new ConfigException(
            "receivers[" + i + "].name", "duplicate receiver name '" + r.name() + "'");
      }
    }
    if (route.receiver() == null) {
      throw new ConfigException("route.receiver", "is required at the top-level route");
    }
    return new AlertsConfig(
        kafka,
        http,
        state,
        route.resolve("route", null, byName),
        inhibitRules,
        silences,
        retry,
        byName,
        links,
        tagLabels);
  }

  /** A node of the routing tree as written: null where the key is absent (then inherited). */
  record RouteSpec(
      String receiver,
      List<Matcher> matchers,
      List<String> groupBy,
      Duration groupWait,
      Duration groupInterval,
      Duration repeatInterval,
      @JsonProperty("continue") Boolean continueMatching,
      List<RouteSpec> routes) {

    RouteSpec {
      if (groupInterval != null) {
        ConfigException.positive("group_interval", groupInterval);
      }
      matchers = matchers == null ? List.of() : List.copyOf(matchers);
      routes = routes == null ? List.of() : List.copyOf(routes);
    }

    /** This node with absent keys taken from {@code parent} (or the defaults at the top). */
    Route resolve(String path, Route parent, Map<String, Receiver> receivers) {
      String rx = receiver != null ? receiver : parent == null ? null : parent.receiver();
      if (receiver != null && !receivers.containsKey(receiver)) {
        throw new ConfigException(
            path + ".receiver",
            "unknown receiver '" + receiver + "'; defined: " + receivers.keySet());
      }
      if (receiver != null && receivers.get(receiver).forwardsEverything()) {
        throw new ConfigException(
            path + ".receiver",
            "receiver '"
                + receiver
                + "' has mode alertmanager: it gets every change without routing, so no route"
                + " may name it");
      }
      Route self =
          new Route(
              rx,
              matchers,
              or(groupBy, parent == null ? DEFAULT_GROUP_BY : parent.groupBy()),
              or(groupWait, parent == null ? DEFAULT_GROUP_WAIT : parent.groupWait()),
              or(groupInterval, parent == null ? DEFAULT_GROUP_INTERVAL : parent.groupInterval()),
              or(
                  repeatInterval,
                  parent == null ? DEFAULT_REPEAT_INTERVAL : parent.repeatInterval()),
              continueMatching != null && continueMatching,
              List.of());
      List<Route> children = new ArrayList<>();
      for (int i = 0; i < routes.size(); i++) {
        children.add(routes.get(i).resolve(path + ".routes[" + i + "]", self, receivers));
      }
      return new Route(
          rx,
          self.matchers(),
          self.groupBy(),
          self.groupWait(),
          self.groupInterval(),
          self.repeatInterval(),
          self.continueMatching(),
          List.copyOf(children));
    }

    private static <T> T or(T value, T inherited) {
      return value != null ? value : inherited;
    }
  }
}
