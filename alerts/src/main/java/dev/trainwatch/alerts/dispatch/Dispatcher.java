package dev.trainwatch.alerts.dispatch;

import dev.trainwatch.alerts.config.AlertsConfig.Route;
import dev.trainwatch.alerts.inhibit.Inhibitor;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.silence.Silences;
import dev.trainwatch.wire.AlertEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Holds the current alerts and their aggregation groups, and decides when each group flushes. Pure
 * state and rules: no I/O beyond the {@link StateSink}, no threads, and every method takes {@code
 * now} from the caller (taken once per tick), so tests drive it with plain instants.
 *
 * <p>Identity is the label set ({@link Alert#fingerprint()}); {@code current} maps each detector
 * identity ({@link Alert#source()}) to its latest alert. When a detector's alert changes labels
 * (warning escalated to critical) the old identity is resolved in the same step, so receivers and
 * Alertmanager see the warning end exactly when the critical starts.
 *
 * <p>Receivers in forward mode ({@code mode: alertmanager}) are outside the routing tree: every
 * state change is queued for them unfiltered (no grouping, inhibition or silences) and flushed at
 * the next tick, one batch per receiver in flight at a time.
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

    /** {@code source} is null when the alert was superseded (its detector lives on). */
    void gone(String fingerprint, String source, long step);
  }

  /** What an event did: changed the state (offset now pending), or nothing (offset settled). */
  public enum Ingested {
    CHANGED,
    DUPLICATE,
    STALE
  }

  /** An alert as the API shows it: where it goes and what mutes it. */
  public record AlertStatus(
      Alert alert, List<String> receivers, List<String> silencedBy, List<String> inhibitedBy) {}

  private final RouteNode routes;
  private final Inhibitor inhibitor;
  private final Silences silences;
  private final StateSink sink;
  private final Map<String, Alert> alerts = new LinkedHashMap<>();
  private final Map<String, String> current = new HashMap<>();
  private final Map<String, Long> tombstones = new HashMap<>();
  private final Map<String, AggrGroup> groups = new LinkedHashMap<>();
  private final Map<String, ForwardQueue> forwards = new LinkedHashMap<>();
  private final List<String> tagLabels;

  public Dispatcher(RouteNode routes, Inhibitor inhibitor, Silences silences, StateSink sink) {
    this(routes, inhibitor, silences, sink, List.of(), List.of());
  }

  /**
   * {@code forwardReceivers}: receivers that get every change unfiltered (forward mode); {@code
   * tagLabels}: run tags promoted to labels when an alert carries them.
   */
  public Dispatcher(
      RouteNode routes,
      Inhibitor inhibitor,
      Silences silences,
      StateSink sink,
      List<String> forwardReceivers,
      List<String> tagLabels) {
    this.tagLabels = List.copyOf(tagLabels);
    this.routes = routes;
    this.inhibitor = inhibitor;
    this.silences = silences;
    this.sink = sink;
    Route root = routes.route();
    for (String r : forwardReceivers) {
      forwards.put(
          r,
          new ForwardQueue(
              new Route(
                  r,
                  List.of(),
                  List.of(),
                  root.groupWait(),
                  root.groupInterval(),
                  root.repeatInterval(),
                  false,
                  List.of())));
    }
  }

  /** Changes waiting for one forward-mode receiver. */
  private static final class ForwardQueue {
    final Route route;
    final Map<String, Alert> alerts = new LinkedHashMap<>();
    final List<SourceOffset> pending = new ArrayList<>();
    boolean inFlight;

    ForwardQueue(Route route) {
      this.route = route;
    }
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
      Alert cur = alerts.get(current.get(a.source()));
      // the latest step is the current one; at equal steps the firing one (the superseded is
      // resolved)
      if (cur == null || a.step() > cur.step() || (a.step() == cur.step() && !a.resolved())) {
        current.put(a.source(), a.fingerprint());
      }
      for (RouteNode r : routes.match(a.labels())) {
        group(r, a, now.toEpochMilli()).alerts.put(a.fingerprint(), a);
      }
    }
  }

  public Ingested ingest(AlertEvent e, SourceOffset src, Instant now) {
    String curId = current.get(e.fingerprint());
    Alert prev = curId == null ? null : alerts.get(curId);
    Long tomb = tombstones.get(e.fingerprint());
    // Kafka redelivers after a restart: an event at or before the step already applied is old news
    if ((prev != null && e.step() < prev.step())
        || (prev == null && tomb != null && e.step() <= tomb)) {
      return Ingested.STALE;
    }
    Alert a = Alert.from(e, prev, now, promoted(e));
    if (a.equals(prev)) {
      return Ingested.DUPLICATE;
    }
    if (prev == null && a.resolved()) {
      return Ingested.STALE; // resolved before we ever saw it firing: nothing to tell anyone
    }
    tombstones.remove(e.fingerprint());
    if (prev != null && !prev.resolved() && !prev.fingerprint().equals(a.fingerprint())) {
      apply(prev.supersededBy(a), src, now);
    }
    current.put(a.source(), a.fingerprint());
    apply(a, src, now);
    return Ingested.CHANGED;
  }

  private Map<String, String> promoted(AlertEvent e) {
    if (tagLabels.isEmpty() || e.tags().isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String t : tagLabels) {
      String v = e.tags().get(t);
      if (v != null && !v.isEmpty()) {
        out.put(t, v);
      }
    }
    return out;
  }

  private void apply(Alert a, SourceOffset src, Instant now) {
    alerts.put(a.fingerprint(), a);
    sink.put(a);
    for (RouteNode r : routes.match(a.labels())) {
      AggrGroup g = group(r, a, now.toEpochMilli() + r.route().groupWait().toMillis());
      g.alerts.put(a.fingerprint(), a);
      if (src != null) {
        g.pending.add(src);
      }
    }
    for (ForwardQueue q : forwards.values()) {
      q.alerts.put(a.fingerprint(), a);
      if (src != null) {
        q.pending.add(src);
      }
    }
  }

  private AggrGroup group(RouteNode r, Alert a, long firstFlushMs) {
    Map<String, String> labels = r.groupLabels(a.labels());
    String key = r.groupKey(labels);
    return groups.computeIfAbsent(key, k -> new AggrGroup(k, r, labels, firstFlushMs));
  }

  /**
   * The flushes due at {@code now}; each group is then in flight until {@link #completed}. A flush
   * carries the unmuted firing alerts and every resolved one: the pipeline sends a resolution only
   * to a receiver that was told the alert fired.
   */
  public List<Flush> due(Instant now) {
    List<Flush> out = new ArrayList<>();
    for (AggrGroup g : groups.values()) {
      if (!g.due(now)) {
        continue;
      }
      List<Alert> send = new ArrayList<>();
      for (Alert a : g.alerts.values()) {
        if (a.resolved() || !muted(a, now)) {
          send.add(a);
        }
      }
      out.add(
          new Flush(
              g.key,
              g.route.route(),
              g.labels,
              send,
              List.copyOf(g.alerts.values()),
              List.copyOf(g.pending),
              now,
              false));
      g.pending.clear();
      g.inFlight = true;
      g.nextFlushMs = now.toEpochMilli() + g.route.route().groupInterval().toMillis();
    }
    for (Map.Entry<String, ForwardQueue> e : forwards.entrySet()) {
      ForwardQueue q = e.getValue();
      if (q.inFlight || (q.alerts.isEmpty() && q.pending.isEmpty())) {
        continue;
      }
      out.add(
          new Flush(
              forwardKey(e.getKey()),
              q.route,
              Map.of(),
              List.copyOf(q.alerts.values()),
              List.of(),
              List.copyOf(q.pending),
              now,
              true));
      q.alerts.clear();
      q.pending.clear();
      q.inFlight = true;
    }
    return out;
  }

  private static String forwardKey(String receiver) {
    return "forward:" + receiver;
  }

  private boolean muted(Alert a, Instant now) {
    return silences.mutes(a.labels(), now) || inhibitor.inhibited(a, alerts.values());
  }

  /**
   * Ends a flush (delivered, dead-lettered or nothing to send). Resolved alerts that did not change
   * since the flush are forgotten, as Alertmanager does, and empty groups are deleted, so state
   * returns to zero once every alert has resolved and been notified.
   */
  public void completed(Flush f) {
    if (f.forward()) {
      forwards.get(f.route().receiver()).inFlight = false;
      return;
    }
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
    if (f.forward()) {
      ForwardQueue q = forwards.get(f.route().receiver());
      q.inFlight = false;
      Map<String, Alert> newer = new LinkedHashMap<>(q.alerts);
      q.alerts.clear();
      f.alerts().forEach(a -> q.alerts.put(a.fingerprint(), a));
      q.alerts.putAll(newer);
      q.pending.addAll(f.offsets());
      return;
    }
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
    if (a.fingerprint().equals(current.get(a.source()))) {
      current.remove(a.source());
      tombstones.put(a.source(), a.step());
      sink.gone(a.fingerprint(), a.source(), a.step());
    } else {
      sink.gone(a.fingerprint(), null, a.step());
    }
  }

  /**
   * The firing alerts a receiver was last told about and that are still firing and unmuted: what a
   * re-send to Alertmanager repeats. {@code sentFiring} gives, per group key, the identities of the
   * firing alerts in the last notification to this receiver. Forward-mode receivers get every
   * firing alert.
   */
  public List<Alert> stillFiring(
      String receiver, Function<String, Set<String>> sentFiring, Instant now) {
    Set<Alert> out = new LinkedHashSet<>();
    if (forwards.containsKey(receiver)) {
      alerts.values().stream().filter(a -> !a.resolved()).forEach(out::add);
      return List.copyOf(out);
    }
    for (AggrGroup g : groups.values()) {
      if (!g.route.route().receiver().equals(receiver)) {
        continue;
      }
      Set<String> sent = sentFiring.apply(g.key);
      for (Alert a : g.alerts.values()) {
        if (!a.resolved() && sent.contains(a.fingerprint()) && !muted(a, now)) {
          out.add(a);
        }
      }
    }
    return List.copyOf(out);
  }

  /** Every firing alert with its receivers, silences and inhibiting alerts (for the API). */
  public List<AlertStatus> statuses(Instant now) {
    List<AlertStatus> out = new ArrayList<>();
    for (Alert a : alerts.values()) {
      if (a.resolved()) {
        continue;
      }
      List<String> receivers = new ArrayList<>();
      routes.match(a.labels()).forEach(r -> receivers.add(r.route().receiver()));
      receivers.addAll(forwards.keySet());
      out.add(
          new AlertStatus(
              a,
              List.copyOf(new LinkedHashSet<>(receivers)),
              silences.mutedBy(a.labels(), now),
              inhibitor.inhibitedBy(a, alerts.values())));
    }
    return out;
  }

  /** Offsets of alert changes not yet handed to a flush. */
  public List<SourceOffset> pendingOffsets() {
    List<SourceOffset> out = new ArrayList<>();
    groups.values().forEach(g -> out.addAll(g.pending));
    forwards.values().forEach(q -> out.addAll(q.pending));
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
