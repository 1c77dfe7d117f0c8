package dev.trainwatch.alerts.dispatch;

import dev.trainwatch.alerts.config.AlertsConfig.Route;
import dev.trainwatch.alerts.model.Alert;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One tick of one aggregation group, handed to the notification pipeline: the alerts to notify
 * (silenced and inhibited ones already removed), the full snapshot (to tell, on completion, which
 * resolved alerts can be forgotten), and the Kafka offsets this flush settles. {@code forward}: a
 * batch of raw state changes for a forward-mode receiver (no dedup stage).
 */
public record Flush(
    String groupKey,
    Route route,
    Map<String, String> groupLabels,
    List<Alert> alerts,
    List<Alert> snapshot,
    List<SourceOffset> offsets,
    Instant now,
    boolean forward) {

  public Flush {
    alerts = List.copyOf(alerts);
    snapshot = List.copyOf(snapshot);
    offsets = List.copyOf(offsets);
    groupLabels = Map.copyOf(groupLabels);
  }
}
