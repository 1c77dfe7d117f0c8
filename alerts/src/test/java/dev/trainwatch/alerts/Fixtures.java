package dev.trainwatch.alerts;

import dev.trainwatch.alerts.config.AlertsConfig;
import dev.trainwatch.alerts.config.ConfigLoader;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Severity;
import java.time.Instant;
import java.util.Map;

/** Alert events and configs named like a timeline. */
public final class Fixtures {

  public static final Instant START = Instant.parse("2026-11-25T12:00:00Z");
  public static final Instant TEN_SECONDS_LATER = START.plusSeconds(10);
  public static final Instant THIRTY_SECONDS_LATER = START.plusSeconds(30);

  private Fixtures() {}

  public static AlertEvent warning(String run, Family family, String detector, long step) {
    return AlertEvent.firing(
        run,
        family,
        detector,
        Severity.WARNING,
        step,
        START.toEpochMilli() + step,
        detector + " warns on " + run,
        "look at it",
        Map.of("value", 1.5),
        null);
  }

  public static AlertEvent critical(String run, Family family, String detector, long step) {
    return AlertEvent.firing(
        run,
        family,
        detector,
        Severity.CRITICAL,
        step,
        START.toEpochMilli() + step,
        detector + " is critical on " + run,
        "stop the run",
        Map.of("value", 9.5),
        null);
  }

  public static AlertEvent resolved(AlertEvent firing, long step) {
    return firing.resolve(step, START.toEpochMilli() + step, "back to normal", Map.of());
  }

  /** A config whose only receiver is {@code receiverYaml} (named "r"), with the given timings. */
  public static AlertsConfig config(String receiverYaml, String routeExtra) {
    return ConfigLoader.parse(
        """
        route:
          receiver: r
        %s
        retry:
          initial_backoff: 10ms
          max_backoff: 50ms
          max_attempts: 20
          max_elapsed: 30s
        http:
          port: 0
        receivers:
          - name: r
        %s
        """
            .formatted(
                routeExtra.indent(2).stripTrailing(), receiverYaml.indent(4).stripTrailing()),
        Map.of());
  }
}
