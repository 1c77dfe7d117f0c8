package dev.trainwatch.alerts.dispatch;

import dev.trainwatch.alerts.config.AlertsConfig.Route;
import dev.trainwatch.alerts.model.Matcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A routing node with a stable id (its matcher path, as Alertmanager builds group keys). The
 * deepest matching node wins; siblings after it are tried only if it sets {@code continue}.
 */
public record RouteNode(String id, Route route, List<RouteNode> children) {

  public static RouteNode of(Route root) {
    return build(root, "{}");
  }

  private static RouteNode build(Route r, String parentId) {
    List<RouteNode> kids = new ArrayList<>();
    RouteNode self = new RouteNode(parentId, r, kids);
    for (Route c : r.routes()) {
      String cid =
          parentId
              + "/{"
              + c.matchers().stream().map(Matcher::toString).collect(Collectors.joining(","))
              + "}";
      kids.add(
          build(
              c, cid + (kids.stream().anyMatch(k -> k.id().equals(cid)) ? "#" + kids.size() : "")));
    }
    return self;
  }

  /** The routes an alert with these labels goes to (at least this node, if it matches). */
  public List<RouteNode> match(Map<String, String> labels) {
    List<RouteNode> out = new ArrayList<>();
    if (!Matcher.all(route.matchers(), labels)) {
      return out;
    }
    for (RouteNode c : children) {
      List<RouteNode> hit = c.match(labels);
      out.addAll(hit);
      if (!hit.isEmpty() && !c.route().continueMatching()) {
        break;
      }
    }
    if (out.isEmpty()) {
      out.add(this);
    }
    return out;
  }

  /** {@code {}/{...}:{family="x",run="y"}}: route id plus the values of its group_by labels. */
  public String groupKey(Map<String, String> groupLabels) {
    return id
        + ":{"
        + groupLabels.entrySet().stream()
            .map(e -> e.getKey() + "=\"" + e.getValue() + "\"")
            .collect(Collectors.joining(","))
        + "}";
  }

  public Map<String, String> groupLabels(Map<String, String> labels) {
    Map<String, String> out = new TreeMap<>();
    for (String l : route.groupBy()) {
      String v = labels.get(l);
      if (v != null) {
        out.put(l, v);
      }
    }
    return out;
  }
}
