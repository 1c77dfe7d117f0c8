package dev.trainwatch.alerts.model;

import dev.trainwatch.wire.AlertEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * An alert as the delivery side sees it: Alertmanager-style labels (identity and grouping)
 * and annotations (text), with the time it started and, once resolved, the time it ended.
 *
 * <p>{@code fingerprint} is the detector's lifetime identity ({@link AlertEvent#fingerprint()}),
 * so an escalation from warning to critical replaces the alert in place; {@link #labelsHash()}
 * changes with the escalation, which is what the notification log compares. Times are epoch
 * millis so the record serialises without extra Jackson modules; {@code endsMs == 0} means
 * firing.
 */
public record Alert(
    String fingerprint,
    Map<String, String> labels,
    Map<String, String> annotations,
    long startsMs,
    long endsMs,
    long step) {

  /** Labels every alert carries; grouping and matchers may use any of them. */
  public static final String RUN = "run", FAMILY = "family", DETECTOR = "detector",
      SEVERITY = "severity", AFFECTED_TASK = "affected_task", ALERTNAME = "alertname";

  public Alert {
    if (fingerprint == null || labels == null) {
      throw new IllegalArgumentException("fingerprint and labels are required");
    }
    // sorted and copied: equal alerts must hash and serialise identically
    labels = new TreeMap<>(labels);
    annotations = annotations == null ? new TreeMap<>() : new TreeMap<>(annotations);
  }

  public boolean resolved() {
    return endsMs > 0;
  }

  /**
   * Converts a detector event. A firing event that continues an already-firing alert keeps its
   * original start, as Alertmanager does; events without a wall-clock time use {@code now}.
   */
  public static Alert from(AlertEvent e, Alert previous, Instant now) {
    long at = e.timeMs() > 0 ? e.timeMs() : now.toEpochMilli();
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(ALERTNAME, e.detector());
    labels.put(RUN, e.run());
    labels.put(FAMILY, e.family().wire());
    labels.put(DETECTOR, e.detector());
    labels.put(SEVERITY, e.severity().wire());
    if (e.affectedTask() != null) {
      labels.put(AFFECTED_TASK, e.affectedTask());
    }
    Map<String, String> ann = new LinkedHashMap<>();
    ann.put("summary", e.summary() == null ? "" : e.summary());
    if (e.remedy() != null) {
      ann.put("remedy", e.remedy());
    }
    ann.put("step", Long.toString(e.step()));
    if (!e.evidence().isEmpty()) {
      ann.put("evidence", evidenceJson(e.evidence()));
    }
    boolean continues = previous != null && !previous.resolved();
    long starts = continues ? previous.startsMs() : at;
    long ends = e.status() == dev.trainwatch.wire.Status.RESOLVED ? Math.max(at, starts) : 0;
    if (ends == starts && ends > 0) {
      ends = starts + 1; // endsMs must be > 0 and after the start to read as resolved
    }
    return new Alert(e.fingerprint(), labels, ann, starts, ends, e.step());
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  /** Evidence as a JSON object string (annotations are strings); NaN and infinities as text. */
  private static String evidenceJson(Map<String, Object> evidence) {
    Map<String, Object> safe = new LinkedHashMap<>();
    evidence.forEach((k, v) -> safe.put(k, v instanceof Double d && !Double.isFinite(d) ? d.toString() : v));
    try {
      return JSON.writeValueAsString(safe);
    } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
      return evidence.toString();
    }
  }

  /** Stable hash of the label set plus state: what the notification log remembers. */
  public String labelsHash() {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (Map.Entry<String, String> l : labels.entrySet()) {
        md.update(l.getKey().getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        md.update(l.getValue().getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
      }
      return HexFormat.of().formatHex(md.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public String label(String name) {
    return labels.get(name);
  }
}
