package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TraceFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the detectors over recorded traces in-process, without Kafka or Flink: the fast loop for
 * tuning detectors and the reference the real pipeline's output is compared with (both must produce
 * the same alerts for the same input).
 */
public final class OfflineEvaluation {

  /** The alerts raised and the count of lines rejected by validation. */
  public record Result(List<AlertEvent> alerts, long records, long rejected) {}

  private OfflineEvaluation() {}

  public static Result run(List<Path> traces, DetectorConfig config) {
    List<AlertEvent> alerts = new ArrayList<>();
    Map<String, RunMonitor> monitors = new HashMap<>();
    long[] counts = new long[2];
    for (Path file : TraceFiles.resolve(traces)) {
      TraceFiles.forEachLine(
          file,
          line -> {
            if (TelemetryParser.DEFAULT.parse(line) instanceof ParseResult.Parsed p) {
              counts[0]++;
              RunMonitor m =
                  monitors.computeIfAbsent(p.record().run(), r -> new RunMonitor(r, config));
              m.observe(p.record(), alerts::add);
              if (m.ended()) {
                monitors.remove(p.record().run());
              }
            } else {
              counts[1]++;
            }
          });
    }
    return new Result(alerts, counts[0], counts[1]);
  }
}
