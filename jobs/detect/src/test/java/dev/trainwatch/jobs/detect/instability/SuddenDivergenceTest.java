package dev.trainwatch.jobs.detect.instability;

import static dev.trainwatch.jobs.detect.instability.Feed.firing;
import static dev.trainwatch.jobs.detect.instability.Feed.rec;
import static dev.trainwatch.jobs.detect.instability.Feed.run;
import static dev.trainwatch.jobs.detect.instability.Feed.steps;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.List;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Warnings on what precedes a sudden blow-up, confirmation on the blow-up itself. */
class SuddenDivergenceTest {

  /**
   * Constant LR 0.05 after a 50-step warmup; at step 500 the LR is multiplied by {@code factor}.
   */
  private static List<TelemetryRecord> lrRaised(double factor, boolean blowsUp) {
    return steps(
        0,
        600,
        s ->
            rec(
                s,
                "lr",
                s < 50 ? 0.05 * (s + 1) / 50 : s < 500 ? 0.05 : 0.05 * factor,
                "loss",
                blowsUp && s > 500 ? 0.3 * Math.pow(30, s - 500) : 0.3 + 0.02 * Math.sin(s),
                "update_ratio",
                (s < 500 ? 0.006 : 0.006 * factor) * (1 + 0.1 * Math.cos(s))));
  }

  @ParameterizedTest(name = "LR x{0} at step 500: warning {1}")
  @CsvSource({"2, true", "20, true", "1.5, false", "1.0, false"})
  void anLrJumpToANewHighWarnsOnTheStepOfTheJump(double factor, boolean warns) {
    List<AlertEvent> a = firing(run(new SuddenDivergenceDetector(), lrRaised(factor, false)));
    if (!warns) {
      assertThat(a).isEmpty();
      return;
    }
    assertThat(a)
        .first()
        .satisfies(
            e -> {
              assertThat(e.step()).isEqualTo(500);
              assertThat(e.severity()).isEqualTo(Severity.WARNING);
              assertThat(e.evidence())
                  .containsEntry("trigger", "lr_jump")
                  .containsEntry("lr_before", 0.05);
              assertThat(e.summary())
                  .startsWith(
                      "LR raised "
                          + (factor == 2 ? "2.00x" : "20.0x")
                          + " in one step, from 0.05 to "
                          + (factor == 2 ? "0.1" : "1")
                          + " at step 500");
            });
  }

  @Test
  void theBlowUpThatFollowsEscalatesToCriticalWithinTwoSteps() {
    List<AlertEvent> a = firing(run(new SuddenDivergenceDetector(), lrRaised(20, true)));
    assertThat(a)
        .extracting(AlertEvent::step, AlertEvent::severity)
        .containsExactly(Tuple.tuple(500L, Severity.WARNING), Tuple.tuple(502L, Severity.CRITICAL));
    assertThat(a.get(1).evidence()).containsEntry("trigger", "loss_explosion");
  }

  @Test
  void aRunThatTakesTheHigherLrResolvesAfterFiftyCalmRecords() {
    List<AlertEvent> a = run(new SuddenDivergenceDetector(), lrRaised(2, false));
    assertThat(a)
        .extracting(AlertEvent::status, AlertEvent::step)
        .containsExactly(Tuple.tuple(Status.FIRING, 500L), Tuple.tuple(Status.RESOLVED, 549L));
  }

  @Test
  void warmRestartsBackToThePeakAndWarmupRampsAreNotJumps() {
    // warmup 100 steps, cosine restarts of period 30, 60, 120 (T_mult 2) back to the peak 0.1
    List<TelemetryRecord> r =
        steps(
            0,
            800,
            s -> {
              double lr;
              if (s < 100) {
                lr = 0.1 * (s + 1) / 100;
              } else {
                long t = s - 100;
                long period = 30;
                while (t >= period) {
                  t -= period;
                  period *= 2;
                }
                lr = 0.1 * (0.5 + 0.5 * Math.cos(Math.PI * t / period));
              }
              return rec(s, "lr", lr, "loss", 1.0 + 0.05 * Math.sin(s), "update_ratio", 0.05 * lr);
            });
    assertThat(firing(run(new SuddenDivergenceDetector(), r))).isEmpty();
  }

  @Test
  void anLrRiseThatTakesLrTimesSharpnessPastTwoWarnsAtTheRise() {
    // SGD, sharpness 30 measured every 50 steps: lr 0.05 -> 1.5 stable, 0.08 -> 2.4 is past the
    // edge
    List<TelemetryRecord> r =
        steps(
            0,
            400,
            s ->
                s % 50 == 0
                    ? rec(s, "lr", s < 300 ? 0.05 : 0.08, "loss", 1.0, "sharpness", 30.0)
                    : rec(s, "lr", s < 300 ? 0.05 : 0.08, "loss", 1.0));
    List<AlertEvent> a = firing(run(new SuddenDivergenceDetector(), r));
    assertThat(a)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.step()).isEqualTo(300);
              assertThat(e.evidence()).containsEntry("trigger", "edge_crossed");
              assertThat((Double) e.evidence().get("lr_times_sharpness"))
                  .isEqualTo(2.4, Offset.offset(1e-9));
            });
  }

  @Test
  void anUpdateRatioJumpWithoutAnLrChangeWarns() {
    List<TelemetryRecord> r =
        steps(
            0,
            400,
            s ->
                rec(
                    s,
                    "lr",
                    0.01,
                    "loss",
                    1.0,
                    "update_ratio",
                    s == 300 ? 0.05 : 0.002 * (1 + 0.2 * Math.sin(s))));
    assertThat(firing(run(new SuddenDivergenceDetector(), r)))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.step()).isEqualTo(300);
              assertThat(e.evidence()).containsEntry("trigger", "update_jump");
            });
  }

  @Test
  void aWarmupToATooHighPeakIsConfirmedAsTheLossExplodesDuringTheRamp() {
    // linear warmup over 100 steps; at step 80 the loss starts to multiply by 3 per step
    List<TelemetryRecord> r =
        steps(
            0,
            100,
            s ->
                rec(
                    s,
                    "lr",
                    1.0 * (s + 1) / 100,
                    "loss",
                    s < 80 ? 2.0 - 0.01 * s + 0.02 * Math.sin(s) : 1.2 * Math.pow(3, s - 79)));
    assertThat(firing(run(new LossSpikeDetector(), r))).isEmpty(); // quiet while the LR ramps
    assertThat(firing(run(new SuddenDivergenceDetector(), r)))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.step())
                  .isEqualTo(82L); // 3.6 (3x), 10.8 (9x), 32 (27x): two rising records at >= 4x
              assertThat(e.severity()).isEqualTo(Severity.CRITICAL);
            });
  }

  @Test
  void aNoisyRunNearZeroLossDoesNotExplode() {
    // log-loss noise of 0.8 (batch-2 style) around 0.01: 8x excursions are ordinary there
    Random rnd = new Random(7);
    List<TelemetryRecord> r =
        steps(0, 1500, s -> rec(s, "lr", 0.05, "loss", 0.01 * Math.exp(0.8 * rnd.nextGaussian())));
    assertThat(firing(run(new SuddenDivergenceDetector(), r))).isEmpty();
  }
}
