package dev.trainwatch.grafana;

import com.fasterxml.jackson.databind.JsonNode;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.TraceFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Alert events derived from the ground truth in {@code labels.json}: a firing alert at each
 * labelled onset (and a stability-gap alert from each task switch to its recovery), timed with the
 * wall clock of the trace record at that step. A stand-in for detector output while the detector
 * registry is empty, so the alert panels have data to show.
 */
final class LabelAlerts {

  static final String DETECTOR = "labels-fixture";

  private LabelAlerts() {}

  static List<AlertEvent> fromLabels(Path labels, List<Path> traces) throws IOException {
    Map<String, Map<Long, Long>> times = new HashMap<>();
    for (Path t : traces) {
      TraceFiles.forEachLine(
          t,
          line -> {
            try {
              JsonNode n = Dashboards.JSON.readTree(line);
              times
                  .computeIfAbsent(n.path("run").asText(), k -> new HashMap<>())
                  .put(n.path("step").asLong(), n.path("time_ms").asLong(-1));
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    }
    List<AlertEvent> out = new ArrayList<>();
    for (JsonNode r : Dashboards.JSON.readTree(labels.toFile()).path("runs")) {
      String run = r.path("run").asText();
      Map<Long, Long> t = times.getOrDefault(run, Map.of());
      switch (r.path("kind").asText()) {
        case "softmax_collapse" ->
            out.add(fire(run, Family.SOFTMAX_COLLAPSE, r.path("onset_step").asLong(), t, null));
        case "divergence", "loss_spike" ->
            out.add(fire(run, Family.INSTABILITY, r.path("onset_step").asLong(), t, null));
        case "stability_gap" -> {
          for (JsonNode g : r.path("gaps")) {
            long at = g.path("task_switch_step").asLong();
            AlertEvent a = fire(run, Family.STABILITY_GAP, at, t, g.path("affected").asText());
            out.add(a);
            long end =
                g.path("recovered_step").isNumber() ? g.path("recovered_step").asLong() : at + 99;
            out.add(a.resolve(end, t.getOrDefault(end, -1L), "recovered", Map.of()));
          }
        }
        default -> {}
      }
    }
    return out;
  }

  private static AlertEvent fire(
      String run, Family f, long step, Map<Long, Long> times, String task) {
    return AlertEvent.firing(
        run,
        f,
        DETECTOR,
        Severity.CRITICAL,
        step,
        times.getOrDefault(step, -1L),
        f.wire() + " labelled at step " + step + (task == null ? "" : " (task " + task + ")"),
        null,
        Map.of("step", step),
        task);
  }
}
