package dev.trainwatch.jobs.detect.instability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.trainwatch.jobs.detect.Detector;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The instability family on the recorded public traces (skipped when they are absent). */
class InstabilityTraceTest {

  @BeforeAll
  static void tracesPresent() {
    assumeTrue(Feed.tracesPresent(), "shared eval traces not found at " + Feed.traces());
  }

  static List<Detector> family() {
    return List.of(
        new NonFiniteDetector(),
        new AttentionLogitGrowthDetector(),
        new AttentionEntropyCollapseDetector(),
        new OutputLogitDriftDetector(),
        new GradNormSpikeDetector(),
        new LossSpikeDetector(),
        new EdgeOfStabilityDetector(),
        new UpdateRatioDetector(),
        new LossScaleCollapseDetector(),
        new SuddenDivergenceDetector(),
        new DivergenceDetector());
  }

  static List<AlertEvent> replay(String run) {
    List<TelemetryRecord> records = Feed.trace(run);
    RunMonitor m = new RunMonitor(run, DetectorConfig.DEFAULTS, family());
    List<AlertEvent> out = new ArrayList<>();
    records.forEach(r -> m.observe(r, out::add));
    assertThat(m.detectorFailures()).isZero();
    return out;
  }

  @ParameterizedTest(name = "{0}: warned >= 150 steps before onset {1}, divergence critical by {2}")
  @CsvSource({
    "lm-char-py-d128-w800-lr1e-1-s1, 849, 900",
    "lm-char-py-d128-w900-lr1.5e-1-s6, 783, 850",
    "lm-char-py-d128-w1000-lr1e-1-s5, 987, 1050"
  })
  void warnsOfDivergenceWellBeforeOnsetThenConfirmsIt(String run, long onset, long confirmBy) {
    List<AlertEvent> a = Feed.firing(replay(run));
    assertThat(a).isNotEmpty();
    AlertEvent first = a.get(0);
    assertThat(first.severity()).isEqualTo(Severity.WARNING);
    assertThat(first.detector()).isEqualTo(AttentionLogitGrowthDetector.NAME);
    assertThat(onset - first.step()).isGreaterThanOrEqualTo(150);
    // From the loss alone (runs without attention metrics): a warning before the onset...
    assertThat(a)
        .filteredOn(
            e -> e.detector().equals(DivergenceDetector.NAME) && e.severity() == Severity.WARNING)
        .singleElement()
        .satisfies(e -> assertThat(e.step()).isLessThan(onset - 50));
    // ...then the confirmation.
    assertThat(a)
        .filteredOn(
            e -> e.detector().equals(DivergenceDetector.NAME) && e.severity() == Severity.CRITICAL)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.severity()).isEqualTo(Severity.CRITICAL);
              assertThat(e.step()).isLessThanOrEqualTo(confirmBy);
              assertThat(e.evidence()).containsKeys("baseline_min", "ratio", "threshold_ratio");
            });
  }

  @ParameterizedTest(name = "{0}: no instability alert")
  @ValueSource(
      strings = {
        "lm-char-py-d128-w600-lr2e-1-qkln-s2",
        "lm-char-py-d128-lr3e-3-s4",
        "lm-char-py-d64-lr3e-3-sgdr-s3",
        "mlp-digits-cosine-s0",
        "mlp-digits-sgdr-s0",
        "cl-digits-ci-replay-s0",
        "cl-digits-ci-replay-s1",
        "cl-digits-ci-replay-lr05-s2",
        "sc-mlp-p97-lr3e-3-s1",
        "sc-mlp-p97-lr3e-3-s2",
        "sc-mlp-p97-lr5e-3-s3",
        "grok-mlp-p97-wd1-s1",
        "grok-mlp-p97-wd1-s2",
        "mlp-p97-f64-s1",
        // batch noise with 15% label noise, a resumed run, SGDR with T_mult 2, Adam b2 0.999 eps
        // 1e-12,
        // task-incremental continual learning, a bf16 run with the orthogonal-gradient fix
        "dg2-labelnoise15-s1",
        "dg2-resume-s2",
        "dg2-sgdr-tmult2-s0",
        "lm2-sgdr-tmult2-s1",
        "lm2-deb-adam-b2999-eps1e-12-lr1e-2-s41",
        "cl2-taskinc-sgd-s0",
        "psc-add-p113-sbf16-orthograd-s1"
      })
  void staysQuietOnRunsThatDoNotDiverge(String run) {
    assertThat(replay(run)).filteredOn(e -> e.status() == Status.FIRING).isEmpty();
  }

  @ParameterizedTest(
      name = "{0}: the LR jump at step 500 is warned, the blow-up confirmed by {2}, before the NaN")
  @CsvSource({"dg2-mse-tanh-lrjump-s3, 501, 502", "lm2-sgd-lrjump10-s1, 503, 504"})
  void warnsOfASuddenBlowUpOnTheLrJumpAndConfirmsItAsItHappens(
      String run, long onset, long confirmBy) {
    List<AlertEvent> a = Feed.firing(replay(run));
    assertThat(a.get(0))
        .satisfies(
            e -> {
              assertThat(e.detector()).isEqualTo(SuddenDivergenceDetector.NAME);
              assertThat(e.step()).isEqualTo(500L).isLessThan(onset);
              assertThat(e.evidence())
                  .containsEntry("trigger", "lr_jump")
                  .containsEntry("lr_factor", 20.0);
            });
    assertThat(a)
        .filteredOn(
            e ->
                e.detector().equals(SuddenDivergenceDetector.NAME)
                    && e.severity() == Severity.CRITICAL)
        .singleElement()
        .satisfies(e -> assertThat(e.step()).isLessThanOrEqualTo(confirmBy));
    // the NaN that follows is critical on the step it appears
    long firstNaN =
        Feed.trace(run).stream()
            .filter(
                r ->
                    r.metrics().size() > 0
                        && IntStream.range(0, r.metrics().size())
                            .anyMatch(i -> !Double.isFinite(r.metrics().value(i))))
            .findFirst()
            .orElseThrow()
            .step();
    assertThat(a)
        .filteredOn(e -> e.detector().equals(NonFiniteDetector.NAME))
        .singleElement()
        .satisfies(e -> assertThat(e.step()).isEqualTo(firstNaN));
  }

  @org.junit.jupiter.api.Test
  void eachCorruptedBatchOfTheSpikeRunIsItsOwnEventWithItsSizeAndDuration() {
    List<AlertEvent> spikes =
        replay("lm2-spike-rand-s1").stream()
            .filter(e -> e.detector().equals(LossSpikeDetector.NAME))
            .toList();
    assertThat(spikes)
        .extracting(AlertEvent::status, AlertEvent::step)
        .containsExactly(
            Tuple.tuple(Status.FIRING, 450L), Tuple.tuple(Status.RESOLVED, 453L),
            Tuple.tuple(Status.FIRING, 700L), Tuple.tuple(Status.RESOLVED, 703L));
    assertThat(spikes.get(1).evidence()).containsEntry("duration_steps", 1L);
    assertThat((Double) spikes.get(1).evidence().get("peak_ratio")).isBetween(3.0, 3.3);
  }
}
