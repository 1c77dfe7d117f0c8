package dev.trainwatch.wire;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * One alert state change emitted by a detector (schema version {@value #SCHEMA_VERSION}).
 *
 * <p>The {@code fingerprint} identifies the alert across its lifetime (firing, escalation to
 * critical, resolved): it hashes run, family, detector and affected task, never the step or the
 * values, so downstream dedup and grouping work like Alertmanager's label fingerprint. {@code
 * evidence} holds the numbers behind the decision (values, baseline, threshold); its values are
 * numbers, strings or booleans. {@code affectedTask} is set for stability gaps only; evidence keys
 * are kept in sorted order. {@code timeMs} is the wall clock of the triggering record, or -1.
 * {@code tags} are the run's tags known when the alert changed (at most {@value #MAX_TAGS}, values
 * cut to {@value #MAX_TAG_VALUE} characters): the alerts service promotes an allow-list of them to
 * labels; they are not part of the fingerprint.
 */
public record AlertEvent(
    int version,
    String run,
    Family family,
    String detector,
    Severity severity,
    Status status,
    long step,
    long timeMs,
    String fingerprint,
    String summary,
    String remedy,
    Map<String, Object> evidence,
    String affectedTask,
    Map<String, String> tags) {

  public static final int SCHEMA_VERSION = 1;

  /** Run tags an alert carries at most: enough for project, team, user and a few more. */
  public static final int MAX_TAGS = 16;

  /** Characters of a tag value an alert carries at most (a label, not a config dump). */
  public static final int MAX_TAG_VALUE = 128;

  public AlertEvent {
    if (run == null || family == null || detector == null || severity == null || status == null) {
      throw new IllegalArgumentException("run, family, detector, severity and status are required");
    }
    // Sorted by key, so the JSON is byte-identical whichever path the event took: Flink's
    // built-in Map serializer rebuilds maps as HashMap, which would reorder insertion order.
    // A mutable TreeMap, not an unmodifiable view: Kryo on Java 17 cannot copy the latter.
    evidence = evidence == null ? new TreeMap<>() : new TreeMap<>(evidence);
    tags = tags == null ? new TreeMap<>() : new TreeMap<>(tags);
    if (fingerprint == null) {
      fingerprint = fingerprint(run, family, detector, affectedTask);
    }
  }

  /** Without run tags. */
  public AlertEvent(
      int version,
      String run,
      Family family,
      String detector,
      Severity severity,
      Status status,
      long step,
      long timeMs,
      String fingerprint,
      String summary,
      String remedy,
      Map<String, Object> evidence,
      String affectedTask) {
    this(
        version,
        run,
        family,
        detector,
        severity,
        status,
        step,
        timeMs,
        fingerprint,
        summary,
        remedy,
        evidence,
        affectedTask,
        null);
  }

  /** This alert carrying the run's tags (the first {@value #MAX_TAGS} by name, values cut). */
  public AlertEvent withTags(Map<String, String> runTags) {
    TreeMap<String, String> t = new TreeMap<>();
    for (Map.Entry<String, String> e : new TreeMap<>(runTags).entrySet()) {
      if (t.size() == MAX_TAGS) {
        break;
      }
      String v = e.getValue() == null ? "" : e.getValue();
      t.put(e.getKey(), v.length() > MAX_TAG_VALUE ? v.substring(0, MAX_TAG_VALUE) : v);
    }
    return new AlertEvent(
        version,
        run,
        family,
        detector,
        severity,
        status,
        step,
        timeMs,
        fingerprint,
        summary,
        remedy,
        evidence,
        affectedTask,
        t);
  }

  /** A new firing (or escalated) alert with the current schema version. */
  public static AlertEvent firing(
      String run,
      Family family,
      String detector,
      Severity severity,
      long step,
      long timeMs,
      String summary,
      String remedy,
      Map<String, Object> evidence,
      String affectedTask) {
    return new AlertEvent(
        SCHEMA_VERSION,
        run,
        family,
        detector,
        severity,
        Status.FIRING,
        step,
        timeMs,
        null,
        summary,
        remedy,
        evidence,
        affectedTask);
  }

  /** The resolved counterpart of this alert at {@code step}, same fingerprint. */
  public AlertEvent resolve(long atStep, long atTimeMs, String why, Map<String, Object> ev) {
    return new AlertEvent(
        version,
        run,
        family,
        detector,
        severity,
        Status.RESOLVED,
        atStep,
        atTimeMs,
        fingerprint,
        why,
        remedy,
        ev,
        affectedTask,
        tags);
  }

  /** Stable 16-hex-digit identity of an alert: SHA-256 over its identifying labels. */
  public static String fingerprint(
      String run, Family family, String detector, String affectedTask) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      String key =
          run
              + '\u0000'
              + family.wire()
              + '\u0000'
              + detector
              + '\u0000'
              + (affectedTask == null ? "" : affectedTask);
      byte[] h = md.digest(key.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(h, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JVM", e);
    }
  }
}
