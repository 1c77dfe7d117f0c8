package dev.trainwatch.jobs.detect.instability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/** The loss-only precursor: warning above the healthy band, critical once clearly diverged. */
class DivergenceWarningTest {

  /** Loss falls from 4 to 1 over 300 steps, holds, then climbs linearly to {@code peak}. */
  private static List<AlertEvent> run(double peak) {
    RunMonitor m = new RunMonitor("r", DetectorConfig.DEFAULTS, List.of(new DivergenceDetector()));
    List<AlertEvent> out = new ArrayList<>();
    for (int s = 0; s < 1000; s++) {
      double loss =
          s < 300
              ? 1 + 3 * Math.exp(-s / 60.0)
              : s < 500 ? 1.0 : 1.0 + (peak - 1.0) * Math.min(1, (s - 500) / 300.0);
      m.observe(TelemetryRecord.of("r", s, Metrics.of(Map.of("loss", loss, "lr", 1e-3))), out::add);
    }
    return out;
  }

  @Test
  void aRiseInsideTheHealthyBandRaisesNothing() {
    assertThat(run(1.2)).isEmpty();
  }

  @Test
  void aRiseAboveTheBandWarnsFirstAndEscalatesWhenItDiverges() {
    List<AlertEvent> out = run(2.0);
    assertThat(out)
        .extracting(AlertEvent::severity, AlertEvent::status)
        .startsWith(
            Tuple.tuple(Severity.WARNING, Status.FIRING),
            Tuple.tuple(Severity.CRITICAL, Status.FIRING));
    long warnAt = out.get(0).step();
    long critAt = out.get(1).step();
    // loss crosses 1.3x at step 590 and 1.5x at step 650 (smoothing and sustain add a little)
    assertThat(warnAt).isBetween(595L, 630L);
    assertThat(critAt).isBetween(660L, 700L);
    assertThat(out.get(0).summary()).contains("rising towards divergence");
  }

  @Test
  void aWarningThatStopsRisingStaysAWarning() {
    List<AlertEvent> out = run(1.4);
    assertThat(out).singleElement().extracting(AlertEvent::severity).isEqualTo(Severity.WARNING);
  }
}
