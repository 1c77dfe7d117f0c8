package dev.trainwatch.jobs.detect.instability;

import static dev.trainwatch.jobs.detect.instability.Feed.firing;
import static dev.trainwatch.jobs.detect.instability.Feed.rec;
import static dev.trainwatch.jobs.detect.instability.Feed.run;
import static dev.trainwatch.jobs.detect.instability.Feed.steps;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.Tags;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each instability rule on synthetic runs: what fires, at which severity, and what stays quiet. */
class InstabilityRulesTest {

  @ParameterizedTest(name = "attn/max_logit {0} -> fires {1}")
  @CsvSource({"31, false", "100, false", "499, false", "501, true", "80000, true"})
  void attentionLogitGrowthWarnsAboveFiveHundred(double logit, boolean fires) {
    List<AlertEvent> a =
        run(new AttentionLogitGrowthDetector(), steps(0, 20, s -> rec(s, "attn/max_logit", logit)));
    assertThat(firing(a)).hasSize(fires ? 1 : 0);
    if (fires) {
      assertThat(a.get(0).severity()).isEqualTo(Severity.WARNING);
      assertThat(a.get(0).family()).isEqualTo(Family.INSTABILITY);
      assertThat(a.get(0).evidence())
          .containsEntry("threshold", 500.0)
          .containsKey("attn_max_logit");
      assertThat(a.get(0).remedy()).contains("qk-layernorm");
    }
  }

  @Test
  void attentionLogitGrowthNamesTheWorstLayerWhenOnlyPerLayerValuesArrive() {
    List<AlertEvent> a =
        run(
            new AttentionLogitGrowthDetector(),
            steps(0, 5, s -> rec(s, "attn/max_logit/0", 20.0, "attn/max_logit/1", 2000.0)));
    assertThat(firing(a))
        .singleElement()
        .satisfies(e -> assertThat(e.evidence()).containsEntry("layer", "1"));
  }

  @Test
  void attentionLogitGrowthResolvesOnlyBelowTheHysteresisLevel() {
    List<TelemetryRecord> r = new ArrayList<>(steps(0, 10, s -> rec(s, "attn/max_logit", 900.0)));
    r.addAll(steps(10, 30, s -> rec(s, "attn/max_logit", 300.0)));
    assertThat(run(new AttentionLogitGrowthDetector(), r)).hasSize(1);
    r.addAll(steps(30, 40, s -> rec(s, "attn/max_logit", 50.0)));
    assertThat(run(new AttentionLogitGrowthDetector(), r))
        .extracting(AlertEvent::status)
        .containsExactly(Status.FIRING, Status.RESOLVED);
  }

  @ParameterizedTest(name = "attn/entropy_min {0} -> fires {1}")
  @CsvSource({"0.0147, false", "0.002, false", "0.0009, true", "0.0, true"})
  void entropyCollapseWarnsBelowOneMillinat(double entropy, boolean fires) {
    assertThat(
            firing(
                run(
                    new AttentionEntropyCollapseDetector(),
                    steps(0, 30, s -> rec(s, "attn/entropy_min", entropy)))))
        .hasSize(fires ? 1 : 0);
  }

  @Test
  void nonFiniteFiresCriticalImmediatelyOnAnyMetricAndResolvesAfterFiniteStretch() {
    List<TelemetryRecord> r = new ArrayList<>(steps(0, 5, s -> rec(s, "loss", 1.0)));
    r.add(rec(5, "loss", 1.0, "eval/acc", Double.POSITIVE_INFINITY));
    r.addAll(steps(6, 80, s -> rec(s, "loss", 1.0)));
    List<AlertEvent> a = run(new NonFiniteDetector(), r);
    assertThat(a).extracting(AlertEvent::status).containsExactly(Status.FIRING, Status.RESOLVED);
    assertThat(a.get(0).step()).isEqualTo(5);
    assertThat(a.get(0).severity()).isEqualTo(Severity.CRITICAL);
    assertThat(a.get(0).evidence()).containsEntry("metric", "eval/acc");
  }

  @Test
  void divergenceFiresCriticalWhenLossStaysWellAboveItsBest() {
    List<TelemetryRecord> r =
        new ArrayList<>(steps(0, 300, s -> rec(s, "loss", 4.0 - 2.5 * Math.min(1, s / 200.0))));
    r.addAll(steps(300, 400, s -> rec(s, "loss", 2.6)));
    List<AlertEvent> a = firing(run(new DivergenceDetector(), r));
    assertThat(a)
        .extracting(AlertEvent::severity)
        .containsExactly(Severity.WARNING, Severity.CRITICAL);
    assertThat(a.get(0).step()).isBetween(300L, 320L).isLessThan(a.get(1).step());
    assertThat(a.get(1))
        .satisfies(
            e -> {
              assertThat(e.step()).isBetween(300L, 340L);
              assertThat((Double) e.evidence().get("ratio")).isGreaterThan(1.5);
            });
  }

  @Test
  void divergenceIgnoresLargeRatiosOfALossNearZero() {
    // 1e-6 -> 0.1 is 1e5x, but gives back 2% of the progress from 4.6: a memorised run wobbling.
    List<TelemetryRecord> r =
        new ArrayList<>(steps(0, 300, s -> rec(s, "loss", s < 100 ? 4.6 : 1e-6)));
    r.addAll(steps(300, 400, s -> rec(s, "loss", 0.1)));
    assertThat(firing(run(new DivergenceDetector(), r))).isEmpty();
  }

  @Test
  void divergenceRebaselinesAfterATaskSwitch() {
    List<TelemetryRecord> r =
        new ArrayList<>(steps(0, 300, s -> task(s, "t0", s < 100 ? 2.3 : 0.01)));
    r.addAll(steps(300, 500, s -> task(s, "t1", s < 330 ? 3.0 : 0.02)));
    assertThat(firing(run(new DivergenceDetector(), r))).isEmpty();
  }

  private static TelemetryRecord task(long step, String task, double loss) {
    TelemetryRecord b = rec(step, "loss", loss);
    return new TelemetryRecord(b.run(), step, -1, task, null, b.metrics(), b.tags(), null);
  }

  @Test
  void lossSpikeWarnsOnAnOutlierAfterWarmupButNotDuringIt() {
    // LR ramps for 200 steps: a spike at 150 is warmup noise, one at 400 is a spike.
    List<TelemetryRecord> r =
        steps(
            0,
            500,
            s ->
                rec(
                    s,
                    "lr",
                    1e-3 * Math.min(1, (s + 1) / 200.0),
                    "loss",
                    (s == 150 || s == 400) ? 8.0 : 2.0 + 0.05 * Math.sin(s)));
    List<AlertEvent> a = firing(run(new LossSpikeDetector(), r));
    assertThat(a)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.step()).isEqualTo(400);
              assertThat(e.severity()).isEqualTo(Severity.WARNING);
              assertThat(e.evidence()).containsKeys("baseline_median", "robust_z", "threshold_z");
            });
  }

  @Test
  void lossSpikeStaysQuietRightAfterAnSgdrRestart() {
    // cosine to 1e-5, restart to 1e-3 at step 300 with a 2.5x loss bump: re-baseline, no alert
    List<TelemetryRecord> r =
        steps(
            0,
            500,
            s ->
                rec(
                    s,
                    "lr",
                    s < 300 ? 1e-3 * (1 + Math.cos(Math.PI * s / 300.0)) / 2 + 1e-5 : 1e-3,
                    "loss",
                    (s >= 300 && s < 320) ? 5.0 : 2.0 + 0.05 * Math.sin(s)));
    assertThat(firing(run(new LossSpikeDetector(), r))).isEmpty();
  }

  @ParameterizedTest(name = "grad_norm {0} after 1.0 -> fires {1}")
  @CsvSource({"3.0, false", "4.9, false", "6.0, true", "100, true"})
  void gradNormSpikeNeedsBothEmaAndRunningMaxRatios(double spike, boolean fires) {
    List<TelemetryRecord> r =
        steps(
            0,
            300,
            s -> rec(s, "loss", 2.0, "grad_norm", s == 250 ? spike : 1.0 + 0.2 * Math.sin(s)));
    assertThat(firing(run(new GradNormSpikeDetector(), r))).hasSize(fires ? 1 : 0);
  }

  @Test
  void gradNormSpikeIsNotJudgedWhileTheLossIsNearZero() {
    List<TelemetryRecord> r =
        steps(
            0, 300, s -> rec(s, "loss", s == 250 ? 0.5 : 1e-7, "grad_norm", s == 250 ? 5.0 : 2e-6));
    assertThat(firing(run(new GradNormSpikeDetector(), r))).isEmpty();
  }

  @ParameterizedTest(name = "lr {0} x sharpness {1} (optimizer {2}) -> fires {3}")
  @CsvSource({
    "0.1, 15, sgd, false",
    "0.1, 25, sgd, true",
    "0.001, 3000, sgd, true",
    "0.001, 3000, adamw, false",
    "0.001, 40000, adamw, true"
  })
  void edgeOfStabilityComparesLrTimesSharpnessWithTwo(
      double lr, double sharpness, String opt, boolean fires) {
    List<TelemetryRecord> r = new ArrayList<>();
    TelemetryRecord first = rec(0, "lr", lr);
    r.add(
        new TelemetryRecord(
            Feed.RUN, 0, -1, null, null, first.metrics(), Tags.of(Map.of("optimizer", opt)), null));
    for (int s = 1; s < 60; s++) {
      // sharpness is sent every 10 steps only; the LR in force comes from other records
      r.add(s % 10 == 0 ? rec(s, "lr", lr, "sharpness", sharpness) : rec(s, "lr", lr));
    }
    assertThat(firing(run(new EdgeOfStabilityDetector(), r))).hasSize(fires ? 1 : 0);
  }

  @ParameterizedTest(name = "update_ratio {0} at lr {1} -> fires {2}")
  @CsvSource({
    "0.001, 0.1, false",
    "0.02, 0.1, false",
    "0.08, 0.1, true",
    "1e-6, 0.1, false",
    "1e-8, 0.1, true",
    "1e-8, 0.001, false"
  })
  void updateRatioWarnsOutOfRangeForTwentySteps(double u, double lr, boolean fires) {
    List<TelemetryRecord> r =
        new ArrayList<>(steps(0, 110, s -> rec(s, "lr", 0.1, "update_ratio", 0.001)));
    r.addAll(steps(110, 140, s -> rec(s, "lr", lr, "update_ratio", u)));
    assertThat(firing(run(new UpdateRatioDetector(), r))).hasSize(fires ? 1 : 0);
  }

  @Test
  void updateRatioIsQuietEarlyInTheRunAndWhileTheLrWarmsUp() {
    // large relative steps while the weights are small and the LR ramps: normal, not an alert
    List<TelemetryRecord> r =
        new ArrayList<>(steps(0, 90, s -> rec(s, "lr", 1e-4 * (s + 1), "update_ratio", 0.2)));
    r.addAll(steps(90, 160, s -> rec(s, "lr", 0.01, "update_ratio", 0.001)));
    assertThat(firing(run(new UpdateRatioDetector(), r))).isEmpty();
  }

  @ParameterizedTest(name = "loss_scale 65536 -> {0} -> fires {1}")
  @CsvSource({"32768, false", "128, false", "64, true", "0.5, true"})
  void lossScaleCollapseWarnsAfterTenHalvingsOrBelowOne(double to, boolean fires) {
    List<TelemetryRecord> r = List.of(rec(0, "loss_scale", 65536), rec(1, "loss_scale", to));
    assertThat(firing(run(new LossScaleCollapseDetector(), r))).hasSize(fires ? 1 : 0);
  }

  @Test
  void outputLogitDriftNeedsTheLossToWorsenToo() {
    List<TelemetryRecord> base =
        steps(0, 300, s -> rec(s, "loss", s < 100 ? 4.0 : 1.0, "logits/lse_mean", -200.0));
    assertThat(firing(run(new OutputLogitDriftDetector(), base))).isEmpty();
    List<TelemetryRecord> worse = new ArrayList<>(base);
    worse.addAll(steps(300, 400, s -> rec(s, "loss", 2.0, "logits/lse_mean", -200.0)));
    assertThat(firing(run(new OutputLogitDriftDetector(), worse)))
        .singleElement()
        .satisfies(e -> assertThat(e.remedy()).contains("z-loss"));
  }

  @Test
  void neverThrowsOnNonFiniteOrMissingMetrics() {
    Random rnd = new Random(7);
    String[] names = {
      "loss",
      "lr",
      "grad_norm",
      "update_ratio",
      "attn/max_logit",
      "attn/max_logit/0",
      "attn/entropy_min",
      "logits/lse_mean",
      "sharpness",
      "loss_scale"
    };
    double[] odd = {
      Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -1.0, 1e300
    };
    List<TelemetryRecord> r =
        steps(
            0,
            2000,
            s -> {
              List<Object> kv = new ArrayList<>();
              for (String n : names) {
                if (rnd.nextInt(4) > 0) {
                  kv.add(n);
                  kv.add(
                      rnd.nextInt(10) == 0 ? odd[rnd.nextInt(odd.length)] : rnd.nextDouble() * 3);
                }
              }
              return rec(s, kv.toArray());
            });
    RunMonitor m = new RunMonitor(Feed.RUN, Feed.config(), InstabilityTraceTest.family());
    r.forEach(x -> m.observe(x, e -> {}));
    assertThat(m.detectorFailures()).isZero();
  }
}
