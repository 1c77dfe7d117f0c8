package dev.trainwatch.alerts.dispatch;

import dev.trainwatch.alerts.inhibit.Inhibitor;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.silence.Silences;
import dev.trainwatch.wire.AlertEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Holds the current alerts and their aggregation groups, and decides when each group flushes.
 * Pure state and rules: no I/O beyond the {@link StateSink}, no threads, and every method takes
 * {@code now} from the caller (taken once per tick), so tests drive it with plain instants.
 *
 * <pre>{@code
 * d.ingest(event, offset, now);
 * for (Flush f : d.due(now)) { pipeline.run(f); d.completed(f); }
 * }</pre>
 */
public final class Dispatcher {

  /** Where alert state changes are persisted (the journal). */
  public interface StateSink {
    void put(Alert a);

    void gone(String fingerprint, long step);
  }

  /** What an event did: changed the state (offset now pending), or nothing (offset settled). */
  public enum Ingested { CHANGED, DUPLICATE, STALE }

  private final RouteNode routes;
  private final Inhibitor inhibitor;
  private final Silences silences;
  private final StateSink sink;
  private final Map<String, Alert> alerts = new LinkedHashMap<>();
  private final Map<String, Long> tombstones = new HashMap<>();
  private final Map<String, AggrGroup> groups = new LinkedHashMap<>();

  public Dispatcher(RouteNode routes, Inhibitor inhibitor, Silences silences, StateSink sink) {
    this.routes = routes;
    this.inhibitor = inhibitor;
    this.silences = silences;
    this.sink = sink;
  }

  /**
   * Restores state after a restart. Restored groups flush at {@code now}: the notification log
   * decides whether anything still has to be sent, so a notification cut off by the restart goes
   * out and a delivered one does not go out again.
   */
  public void restore(Map<String, Alert> restored, Map<String, Long> gone, Instant now) {
    tombstones.putAll(gone);
    for (Alert a : restored.values()) {
      alerts.put(a.fingerprint(), a);
      for (RouteNode r : routes.match(a.labels())) {
        group(r, a, now.toEpochMilli()).alerts.put(a.fingerprint(), a);
      }
    }
  }

  public Ingested ingest(AlertEvent e, SourceOffset src, Instant now) {
    Alert prev = alerts.get(e.fingerprint());
    Long tomb = tombstones.get(e.fingerprint());
    // Kafka redelivers after a restart: an event at or before the step already applied is old news
    if ((prev != null && e.step() < prev.step()) || (prev == null && tomb != null && e.step() <= tomb)) {
      return Ingested.STALE;
    }
    Alert a = Alert.from(e, prev, now);
    if (a.equals(prev)) {
      return Ingested.DUPLICATE;
    }
    if (prev == null && a.resolved()) {
      return Ingested.STALE; // resolved before we ever saw it firing: nothing to tell anyone
    }
    alerts.put(a.fingerprint(), a);
    tombstones.remove(a.fingerprint());
    sink.put(a);
    for (RouteNode r : routes.match(a.labels())) {
      AggrGroup g = group(r, a, now.toEpochMilli() + r.route().groupWait().toMillis());
      g.alerts.put(a.fingerprint(), a);
      if (src != null) {
        g.pending.add(src);
      }
    }
    return Ingested.CHANGED;
  }

  private AggrGroup group(RouteNode r, Alert a, long firstFlushMs) {
    Map<String, String> labels = r.groupLabels(a.labels());
    String key = r.groupKey(labels);
    return groups.computeIfAbsent(key, k -> new AggrGroup(k, r, labels, firstFlushMs));
  }

  /** The flushes due at {@code now}; each group is then in flight until {@link #completed}. */
  public List<Flush> due(Instant now) {
    List<Flush> out = new ArrayList<>();
    for (AggrGroup g : groups.values()) {
      if (!g.due(now)) {
        continue;
      }
      List<Alert> unmuted = new ArrayList<>();
      for (Alert a : g.alerts.values()) {
        if (!silences.mutes(a.labels(), now) && !inhibitor.inhibited(a, alerts.values())) {
          unmuted.add(a);
        }
      }
      out.add(new Flush(g.key, g.route.route(), g.labels, unmuted, List.copyOf(g.alerts.values()),
          List.copyOf(g.pending), now));
      g.pending.clear();
      g.inFlight = true;
      g.nextFlushMs = now.toEpochMilli() + g.route.route().groupInterval().toMillis();
    }
    return out;
  }

  /**
   * Ends a flush (delivered, dead-lettered or nothing to send). Resolved alerts that did not
   * change since the flush are forgotten, as Alertmanager does, and empty groups are deleted,
   * so state returns to zero once every alert has resolved and been notified.
   */
  public void completed(Flush f) {
    AggrGroup g = groups.get(f.groupKey());
    if (g == null) {
      return;
    }
    g.inFlight = false;
    for (Alert a : f.snapshot()) {
      if (a.resolved() && a.equals(g.alerts.get(a.fingerprint()))) {
        g.alerts.remove(a.fingerprint());
        forgetIfUngrouped(a);
      }
    }
    if (g.empty()) {
      groups.remove(g.key);
    }
  }

  /** Puts a flush's offsets back (service closing before it finished): they stay uncommitted. */
  public void abandoned(Flush f) {
    AggrGroup g = groups.get(f.groupKey());
    if (g != null) {
      g.inFlight = false;
      g.pending.addAll(f.offsets());
    }
  }

  private void forgetIfUngrouped(Alert a) {
    for (AggrGroup other : groups.values()) {
      if (other.alerts.containsKey(a.fingerprint())) {
        return;
      }
    }
    alerts.remove(a.fingerprint());
    tombstones.put(a.fingerprint(), a.step());
    sink.gone(a.fingerprint(), a.step());
  }

  /** Offsets of alert changes not yet handed to a flush. */
  public List<SourceOffset> pendingOffsets() {
    List<SourceOffset> out = new ArrayList<>();
    groups.values().forEach(g -> out.addAll(g.pending));
    return out;
  }

  public int alertCount() {
    return alerts.size();
  }

  public int groupCount() {
    return groups.size();
  }

  public Set<String> groupKeys() {
    return Set.copyOf(groups.keySet());
  }

  public Map<String, Long> tombstones() {
    return Map.copyOf(tombstones);
  }

  public Map<String, Alert> alerts() {
    return Map.copyOf(alerts);
  }
}
