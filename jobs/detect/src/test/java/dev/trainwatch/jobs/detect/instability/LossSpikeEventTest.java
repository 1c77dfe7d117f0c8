package dev.trainwatch.jobs.detect.instability;

import static dev.trainwatch.jobs.detect.instability.Feed.RUN;
import static dev.trainwatch.jobs.detect.instability.Feed.rec;
import static dev.trainwatch.jobs.detect.instability.Feed.run;
import static dev.trainwatch.jobs.detect.instability.Feed.steps;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/** Every transient spike is its own event: size and duration, also while other alerts fire. */
class LossSpikeEventTest {

  private static double base(long s) {
    return 2.0 + 0.05 * Math.sin(s);
  }

  @Test
  void aBadBatchSpikeOfOnePointSixFiresThenResolvesWithItsSizeAndDuration() {
    // a 1.6x spike lasting 2 steps (a corrupted batch), then back
    List<TelemetryRecord> r =
        steps(0, 400, s -> rec(s, "loss", s == 300 || s == 301 ? 3.3 : base(s)));
    List<AlertEvent> a = run(new LossSpikeDetector(), r);
    assertThat(a)
        .extracting(AlertEvent::status, AlertEvent::step)
        .containsExactly(Tuple.tuple(Status.FIRING, 300L), Tuple.tuple(Status.RESOLVED, 304L));
    assertThat(a.get(0).summary()).startsWith("loss spike at step 300: 3.3, 1.6");
    assertThat(a.get(1).evidence())
        .containsEntry("duration_steps", 2L)
        .containsEntry("spike_step", 300L)
        .containsEntry("resolved_as", "back");
    assertThat((Double) a.get(1).evidence().get("peak_ratio")).isBetween(1.6, 1.7);
  }

  @Test
  void twoSpikesTenStepsApartAreTwoEvents() {
    List<TelemetryRecord> r =
        steps(0, 400, s -> rec(s, "loss", s == 300 || s == 310 ? 4.0 : base(s)));
    assertThat(run(new LossSpikeDetector(), r))
        .extracting(AlertEvent::status, AlertEvent::step)
        .containsExactly(
            Tuple.tuple(Status.FIRING, 300L), Tuple.tuple(Status.RESOLVED, 303L),
            Tuple.tuple(Status.FIRING, 310L), Tuple.tuple(Status.RESOLVED, 313L));
  }

  @Test
  void aSpikeWhileADivergenceWarningFiresIsReportedAsItsOwnEvent() {
    // the loss drifts up from 1.0 to 1.5 (divergence warning fires), then one batch spikes 2x
    List<TelemetryRecord> r =
        steps(
            0,
            700,
            s -> {
              double level = s < 300 ? 1.0 : Math.min(1.5, 1.0 + (s - 300) / 200.0);
              return rec(s, "loss", s == 650 ? 2 * level : level * (1 + 0.01 * Math.sin(s)));
            });
    RunMonitor m =
        new RunMonitor(
            RUN, Feed.config(), List.of(new DivergenceDetector(), new LossSpikeDetector()));
    List<AlertEvent> a = new ArrayList<>();
    r.forEach(x -> m.observe(x, a::add));
    AlertEvent divergence =
        a.stream()
            .filter(e -> e.detector().equals(DivergenceDetector.NAME))
            .findFirst()
            .orElseThrow();
    assertThat(divergence.step()).isLessThan(650);
    assertThat(a)
        .filteredOn(e -> e.detector().equals(LossSpikeDetector.NAME))
        .extracting(AlertEvent::status, AlertEvent::step)
        .containsExactly(Tuple.tuple(Status.FIRING, 650L), Tuple.tuple(Status.RESOLVED, 653L));
    assertThat(m.activeAlerts()).extracting(AlertEvent::detector).contains(DivergenceDetector.NAME);
  }

  @Test
  void aSpikeThatNeverComesBackResolvesAsANewLevel() {
    List<TelemetryRecord> r = steps(0, 400, s -> rec(s, "loss", s >= 300 ? 6.0 : base(s)));
    List<AlertEvent> a = run(new LossSpikeDetector(), r);
    assertThat(a).hasSize(2);
    assertThat(a.get(1).evidence()).containsEntry("resolved_as", "level_shift");
    assertThat(a.get(1).step()).isEqualTo(331L);
  }
}
