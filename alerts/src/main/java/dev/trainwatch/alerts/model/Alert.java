package dev.trainwatch.alerts.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * An alert as the delivery side sees it: Alertmanager-style labels (identity and grouping) and
 * annotations (text), with the time it started and, once resolved, the time it ended.
 *
 * <p>Identity is the label set, as in Alertmanager: {@code fingerprint} is a hash of the labels
 * (always recomputed from them), so a warning and the critical it escalates to are two alerts, and
 * the warning is resolved when the critical starts (see {@link #supersededBy}). {@code source} is
 * the detector's lifetime identity ({@link AlertEvent#fingerprint()}, one per run, detector and
 * task), shared by both, and sent to receivers as the {@code trainwatch_id} annotation so they can
 * follow one problem across its severities. Times are epoch millis so the record serialises without
 * extra Jackson modules; {@code endsMs == 0} means firing.
 */
public record Alert(
    String fingerprint,
    String source,
    Map<String, String> labels,
    Map<String, String> annotations,
    long startsMs,
    long endsMs,
    long step) {

  /** Labels every alert carries; grouping and matchers may use any of them. */
  public static final String RUN = "run",
      FAMILY = "family",
      DETECTOR = "detector",
      SEVERITY = "severity",
      AFFECTED_TASK = "affected_task",
      ALERTNAME = "alertname";

  /** Annotation naming the detector identity shared by every severity of one problem. */
  public static final String TRAINWATCH_ID = "trainwatch_id";

  public Alert {
    if (labels == null) {
      throw new IllegalArgumentException("labels are required");
    }
    // sorted and copied: equal alerts must hash and serialise identically
    labels = new TreeMap<>(labels);
    annotations = annotations == null ? new TreeMap<>() : new TreeMap<>(annotations);
    // journals written before identity became the label set stored the detector identity here
    source = source != null ? source : fingerprint;
    fingerprint = identity(labels);
    if (source == null) {
      throw new IllegalArgumentException("source (the detector identity) is required");
    }
  }

  public boolean resolved() {
    return endsMs > 0;
  }

  /**
   * Converts a detector event. A firing event that continues an already-firing alert keeps its
   * original start, as Alertmanager does; events without a wall-clock time use {@code now}.
   */
  public static Alert from(AlertEvent e, Alert previous, Instant now) {
    return from(e, previous, now, Map.of());
  }

  /**
   * As {@link #from(AlertEvent, Alert, Instant)}, with run tags already chosen for promotion to
   * labels. A resolved event resolves whatever identity is current for its detector (the label set
   * of {@code previous}); a firing event whose labels differ from a firing {@code previous} (an
   * escalation) starts a new alert at its own time.
   */
  public static Alert from(
      AlertEvent e, Alert previous, Instant now, Map<String, String> tagLabels) {
    long at = e.timeMs() > 0 ? e.timeMs() : now.toEpochMilli();
    Map<String, String> labels = new LinkedHashMap<>(tagLabels);
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
    ann.put(TRAINWATCH_ID, e.fingerprint());
    boolean resolving = e.status() == Status.RESOLVED;
    if (resolving && previous != null) {
      labels = new LinkedHashMap<>(previous.labels()); // the identity being resolved
    }
    boolean continues =
        previous != null && !previous.resolved() && previous.labels().equals(labels);
    if (previous != null && !previous.resolved() && !continues) {
      ann.put(ESCALATED_FROM, previous.label(SEVERITY));
    } else if (continues && previous.annotations().containsKey(ESCALATED_FROM)) {
      ann.put(ESCALATED_FROM, previous.annotations().get(ESCALATED_FROM));
    }
    long starts = continues ? previous.startsMs() : at;
    long ends = resolving ? Math.max(at, starts) : 0;
    if (ends == starts && ends > 0) {
      ends = starts + 1; // endsMs must be > 0 and after the start to read as resolved
    }
    return new Alert(null, e.fingerprint(), labels, ann, starts, ends, e.step());
  }

  /** Annotation on an alert that replaced a firing one of another severity: that severity. */
  public static final String ESCALATED_FROM = "escalated_from";

  /** Annotation on an alert resolved because its detector moved to another severity. */
  public static final String SUPERSEDED_BY = "superseded_by";

  /**
   * This firing alert, resolved at {@code atMs} because {@code next} (same detector, other labels)
   * replaced it: a receiver sees the old identity end when the new one starts.
   */
  public Alert supersededBy(Alert next) {
    Map<String, String> ann = new TreeMap<>(annotations);
    ann.put(SUPERSEDED_BY, next.label(SEVERITY) == null ? "" : next.label(SEVERITY));
    long ends = Math.max(next.startsMs(), startsMs + 1);
    return new Alert(null, source, labels, ann, startsMs, ends, step);
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Evidence as a JSON object string (annotations are strings); NaN and infinities as text. */
  private static String evidenceJson(Map<String, Object> evidence) {
    Map<String, Object> safe = new LinkedHashMap<>();
    evidence.forEach(
        (k, v) -> safe.put(k, v instanceof Double d && !Double.isFinite(d) ? d.toString() : v));
    try {
      return JSON.writeValueAsString(safe);
    } catch (JsonProcessingException ex) {
      return evidence.toString();
    }
  }

  /** The identity (label-set hash): what the notification log remembers. */
  public String labelsHash() {
    return fingerprint;
  }

  /** 16 hex digits of SHA-256 over the sorted labels: equal label sets, equal identity. */
  public static String identity(Map<String, String> labels) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      Map<String, String> sorted = labels instanceof TreeMap ? labels : new TreeMap<>(labels);
      for (Map.Entry<String, String> l : sorted.entrySet()) {
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
