package dev.trainwatch.alerts.dispatch;

import dev.trainwatch.alerts.model.Alert;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An aggregation group: the alerts of one route with equal group_by labels. It flushes first {@code
 * group_wait} after it is created, then every {@code group_interval}; at most one flush is in
 * flight. Not thread-safe: owned by the dispatcher thread.
 */
final class AggrGroup {

  final String key;
  final RouteNode route;
  final Map<String, String> labels;
  final Map<String, Alert> alerts = new LinkedHashMap<>();
  final List<SourceOffset> pending = new ArrayList<>();
  long nextFlushMs;
  boolean inFlight;

  AggrGroup(String key, RouteNode route, Map<String, String> labels, long firstFlushMs) {
    this.key = key;
    this.route = route;
    this.labels = labels;
    this.nextFlushMs = firstFlushMs;
  }

  boolean due(Instant now) {
    return !inFlight && nextFlushMs <= now.toEpochMilli();
  }

  boolean empty() {
    return alerts.isEmpty() && pending.isEmpty() && !inFlight;
  }
}
