package dev.trainwatch.alerts.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trainwatch.alerts.config.Receiver;
import dev.trainwatch.alerts.model.Alert;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The three wire formats receivers understand: the Alertmanager webhook payload version 4 (so
 * existing webhook receivers work unchanged), a Slack incoming-webhook message, and the
 * Alertmanager {@code POST /api/v2/alerts} body (to forward into a real Alertmanager).
 */
public final class Payloads {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Alertmanager's zero time, used for the endsAt of firing alerts. */
  private static final String ZERO_TIME = "0001-01-01T00:00:00Z";

  private Payloads() {}

  /**
   * Webhook v4: version, groupKey, truncatedAlerts, status, receiver, groupLabels, commonLabels,
   * commonAnnotations, externalURL, alerts. {@code maxAlerts} 0 means all alerts.
   */
  public static byte[] webhookV4(Notification n, int maxAlerts) {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "4");
    root.put("groupKey", n.groupKey());
    List<Alert> alerts = n.alerts();
    int keep = maxAlerts > 0 ? Math.min(maxAlerts, alerts.size()) : alerts.size();
    root.put("truncatedAlerts", alerts.size() - keep);
    root.put("status", n.status());
    root.put("receiver", n.receiver());
    root.set("groupLabels", map(n.groupLabels()));
    root.set("commonLabels", map(n.commonLabels()));
    root.set("commonAnnotations", map(n.commonAnnotations()));
    root.put("externalURL", n.externalUrl());
    ArrayNode arr = root.putArray("alerts");
    for (Alert a : alerts.subList(0, keep)) {
      ObjectNode o = arr.addObject();
      o.put("status", a.resolved() ? "resolved" : "firing");
      o.set("labels", map(a.labels()));
      o.set("annotations", map(n.annotationsOf(a)));
      o.put("startsAt", Instant.ofEpochMilli(a.startsMs()).toString());
      o.put("endsAt", a.resolved() ? Instant.ofEpochMilli(a.endsMs()).toString() : ZERO_TIME);
      o.put("generatorURL", n.links().generatorUrl(a, n.now()));
      o.put("fingerprint", a.fingerprint());
    }
    return bytes(root);
  }

  /** A Slack incoming-webhook message: a {@code text} fallback plus one attachment per alert. */
  public static byte[] slack(Notification n, int maxAlerts) {
    ObjectNode root = JSON.createObjectNode();
    root.put("text", n.summaryLine());
    ArrayNode att = root.putArray("attachments");
    int keep = maxAlerts > 0 ? Math.min(maxAlerts, n.alerts().size()) : n.alerts().size();
    for (Alert a : n.alerts().subList(0, keep)) {
      ObjectNode o = att.addObject();
      boolean critical = "critical".equals(a.label(Alert.SEVERITY));
      o.put("color", a.resolved() ? "good" : critical ? "danger" : "warning");
      o.put(
          "title",
          (a.resolved() ? "RESOLVED " : "")
              + a.label(Alert.ALERTNAME)
              + " on "
              + a.label(Alert.RUN));
      String link = n.links().generatorUrl(a, n.now());
      if (!link.isEmpty()) {
        o.put("title_link", link);
      }
      String remedy = a.annotations().get("remedy");
      o.put(
          "text",
          a.annotations().getOrDefault("summary", "") + (remedy == null ? "" : "\n" + remedy));
    }
    if (keep < n.alerts().size()) {
      att.addObject().put("text", "+" + (n.alerts().size() - keep) + " more alerts");
    }
    return bytes(root);
  }

  /**
   * Alertmanager API v2 postable alerts. A firing alert carries {@code endsAt} = now + {@value
   * Receiver.Alertmanager#ENDS_AT_INTERVALS} x {@code resendInterval}, so it stays active while it
   * is re-sent and expires on its own if trainwatch goes away (without endsAt, Alertmanager would
   * resolve it after its resolve_timeout, 5 min by default, while it still fires). A resolved alert
   * carries the time it resolved, never later than now: Alertmanager resolves it at once.
   */
  public static byte[] alertmanagerV2(Notification n, Duration resendInterval) {
    ArrayNode arr = JSON.createArrayNode();
    long nowMs = n.now().toEpochMilli();
    long aheadMs = Receiver.Alertmanager.ENDS_AT_INTERVALS * resendInterval.toMillis();
    for (Alert a : n.alerts()) {
      ObjectNode o = arr.addObject();
      o.set("labels", map(a.labels()));
      o.set("annotations", map(n.annotationsOf(a)));
      o.put("startsAt", Instant.ofEpochMilli(a.startsMs()).toString());
      long ends =
          a.resolved()
              ? Math.max(a.startsMs(), Math.min(a.endsMs(), nowMs))
              : Math.max(a.startsMs(), nowMs) + aheadMs;
      o.put("endsAt", Instant.ofEpochMilli(ends).toString());
      o.put("generatorURL", n.links().generatorUrl(a, n.now()));
    }
    return bytes(arr);
  }

  private static ObjectNode map(Map<String, String> m) {
    ObjectNode o = JSON.createObjectNode();
    m.forEach(o::put);
    return o;
  }

  private static byte[] bytes(JsonNode n) {
    return n.toString().getBytes(StandardCharsets.UTF_8);
  }
}
