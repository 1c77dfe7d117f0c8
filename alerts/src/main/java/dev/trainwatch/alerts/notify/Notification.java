package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.model.AlertLinks;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One notification for one receiver: the group's alerts (firing and resolved) with the labels they
 * have in common. {@code status} is firing if any alert fires, as in Alertmanager.
 */
public record Notification(
    String groupKey,
    String receiver,
    Map<String, String> groupLabels,
    List<Alert> alerts,
    String externalUrl,
    AlertLinks links,
    Instant now) {

  public Notification {
    alerts = List.copyOf(alerts);
    groupLabels = new TreeMap<>(groupLabels);
  }

  /** Without payload links, at the current time. */
  public Notification(
      String groupKey,
      String receiver,
      Map<String, String> groupLabels,
      List<Alert> alerts,
      String externalUrl) {
    this(groupKey, receiver, groupLabels, alerts, externalUrl, AlertLinks.NONE, Instant.now());
  }

  /** The annotations receivers see (the alert's plus description and runbook_url). */
  public Map<String, String> annotationsOf(Alert a) {
    return links.annotations(a);
  }

  public String status() {
    return alerts.stream().anyMatch(a -> !a.resolved()) ? "firing" : "resolved";
  }

  public long firingCount() {
    return alerts.stream().filter(a -> !a.resolved()).count();
  }

  public Map<String, String> commonLabels() {
    return common(true);
  }

  public Map<String, String> commonAnnotations() {
    return common(false);
  }

  private Map<String, String> common(boolean labels) {
    if (alerts.isEmpty()) {
      return new TreeMap<>();
    }
    Map<String, String> out =
        new HashMap<>(labels ? alerts.get(0).labels() : annotationsOf(alerts.get(0)));
    for (Alert a : alerts) {
      Map<String, String> m = labels ? a.labels() : annotationsOf(a);
      out.entrySet().removeIf(e -> !e.getValue().equals(m.get(e.getKey())));
    }
    return new TreeMap<>(out);
  }

  /** One line for humans: {@code [FIRING:2] {family="x",run="y"} summary...}. */
  public String summaryLine() {
    String first = alerts.isEmpty() ? "" : alerts.get(0).annotations().getOrDefault("summary", "");
    return "["
        + status().toUpperCase(Locale.ROOT)
        + ":"
        + (status().equals("firing") ? firingCount() : alerts.size())
        + "] "
        + receiver
        + " "
        + groupLabels
        + " "
        + first;
  }
}
