package dev.trainwatch.jobs.detect.softmaxcollapse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.LogitsSample;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.Tags;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SoftmaxAbsorptionDetectorTest {

  private static final String RUN = "r";

  /** One detector inside a monitor, collecting what it emits. */
  private static final class Harness {
    final RunMonitor monitor;
    final List<AlertEvent> alerts = new ArrayList<>();

    Harness() {
      this(Map.of());
    }

    Harness(Map<String, String> settings) {
      monitor =
          new RunMonitor(
              RUN,
              new DetectorConfig(new Settings(settings)),
              new ArrayList<>(List.of(new SoftmaxAbsorptionDetector())));
    }

    Harness feed(TelemetryRecord r) {
      monitor.observe(r, alerts::add);
      return this;
    }

    List<AlertEvent> firing() {
      return alerts.stream().filter(a -> a.status() == Status.FIRING).toList();
    }
  }

  private static TelemetryRecord rec(long step, String dtype, Object... kv) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], ((Number) kv[i + 1]).doubleValue());
    }
    Tags tags = dtype == null ? Tags.EMPTY : Tags.of(Map.of("dtype", dtype));
    return new TelemetryRecord(RUN, step, -1, null, null, Metrics.of(m), tags, null);
  }

  private static TelemetryRecord absorbed(long step, double frac) {
    return rec(step, step == 0 ? "float32" : null, "logits/absorbed_frac", frac);
  }

  @Test
  void firesWarningWhenAbsorbedFractionLeavesZeroPersistently() {
    Harness h = new Harness();
    h.feed(absorbed(0, 0)).feed(absorbed(1, 0.02)).feed(absorbed(2, 0.03));
    assertThat(h.alerts).isEmpty();
    h.feed(absorbed(3, 0.04));
    assertThat(h.alerts)
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.family()).isEqualTo(Family.SOFTMAX_COLLAPSE);
              assertThat(a.severity()).isEqualTo(Severity.WARNING);
              assertThat(a.step()).isEqualTo(3);
              assertThat(a.evidence()).containsEntry("trigger", "absorption_started");
              assertThat(a.remedy()).contains("StableMax", "weight decay", "precision");
            });
  }

  @Test
  void ignoresIsolatedAbsorbedSamples() {
    Harness h = new Harness();
    for (int s = 0; s < 300; s++) {
      h.feed(absorbed(s, s % 3 == 0 ? 0.02 : 0.0003));
    }
    assertThat(h.alerts).isEmpty();
  }

  @Test
  void firesCriticalWhenAbsorbedFractionCrossesHalf() {
    Harness h = new Harness();
    double[] fr = {0, 0.02, 0.05, 0.1, 0.3, 0.49, 0.51, 0.55};
    for (int s = 0; s < fr.length; s++) {
      h.feed(absorbed(s, fr[s]));
    }
    assertThat(h.firing())
        .extracting(AlertEvent::severity, AlertEvent::step)
        .containsExactly(Tuple.tuple(Severity.WARNING, 3L), Tuple.tuple(Severity.CRITICAL, 7L));
  }

  @Test
  void resolvesOnlyAfterAbsorptionStaysBelowHysteresisForResolveSteps() {
    Harness h = new Harness();
    for (int s = 0; s < 10; s++) {
      h.feed(absorbed(s, 0.6));
    }
    for (int s = 10; s < 100; s++) {
      h.feed(absorbed(s, 0.008)); // below the warning level, above the resolve level
    }
    for (int s = 100; s < 299; s++) {
      h.feed(absorbed(s, 0.0));
    }
    assertThat(h.alerts).noneMatch(a -> a.status() == Status.RESOLVED);
    h.feed(absorbed(300, 0.0));
    assertThat(h.alerts.get(h.alerts.size() - 1).status()).isEqualTo(Status.RESOLVED);
  }

  /** Summary-only run: margin_mean grows 0.005/step towards the float32 limit. */
  private static Harness growMarginMean(String dtype, double normSlope, int steps) {
    Harness h = new Harness();
    for (int s = 0; s <= steps; s++) {
      h.feed(
          rec(
              s,
              s == 0 ? dtype : null,
              "logits/margin_mean",
              8.0 + 0.005 * s,
              "param_norm",
              100 + normSlope * s,
              "logits/absorbed_frac",
              0.0));
    }
    return h;
  }

  @Test
  void warnsWithEtaWhenMarginMeanApproachesTheDtypeLimit() {
    Harness h = growMarginMean("float32", 0.01, 2000);
    assertThat(h.alerts)
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.severity()).isEqualTo(Severity.WARNING);
              assertThat(a.evidence())
                  .containsEntry("trigger", "margin_approaching_limit")
                  .containsEntry("margin_source", "margin_mean");
              // ETA <= 300 steps binds first: gap <= 1.5 nats, 8 + 0.005 s >= 15.14 at s = 1428
              assertThat(a.step()).isBetween(1420L, 1435L);
              assertThat(((Number) a.evidence().get("eta_steps")).longValue())
                  .isBetween(280L, 300L);
              assertThat(a.summary()).contains("ETA");
            });
  }

  @Test
  void marginWarningResolvesOnceMarginsLevelOffAndDoesNotFlap() {
    Harness h = new Harness();
    for (int s = 0; s <= 4000; s++) {
      double mm = 8.0 + 0.005 * Math.min(s, 1500); // grows, then flat 1.14 nats below the limit
      h.feed(
          rec(
              s,
              s == 0 ? "float32" : null,
              "logits/margin_mean",
              mm,
              "param_norm",
              100 + 0.01 * s,
              "logits/absorbed_frac",
              0.0));
    }
    assertThat(h.alerts)
        .extracting(AlertEvent::status)
        .containsExactly(Status.FIRING, Status.RESOLVED);
    assertThat(h.alerts.get(1).step()).isGreaterThan(1500 + 200);
  }

  @Test
  void staysQuietInFloat64AtMarginsThatCollapseFloat32() {
    assertThat(growMarginMean("float64", 0.01, 2000).alerts).isEmpty();
  }

  @Test
  void staysQuietWhileWeightDecayShrinksTheWeights() {
    assertThat(growMarginMean("float32", -0.01, 2000).alerts).isEmpty();
  }

  private static TelemetryRecord rowsRecord(long step, double margin) {
    double[][] rows = new double[8][];
    int[] labels = new int[8];
    for (int i = 0; i < 8; i++) {
      labels[i] = i % 4;
      rows[i] = new double[97];
      // label margin = z_label - ln(96) with the 96 others at 0; spread rows by 0.1 nat
      rows[i][labels[i]] = margin - 0.1 * i + Math.log(96);
    }
    return new TelemetryRecord(
        RUN,
        step,
        -1,
        null,
        null,
        Metrics.EMPTY,
        Tags.EMPTY,
        new LogitsSample("bfloat16", labels, rows));
  }

  @Test
  void usesSampledRowsInTheirDtypeWhenNoSummaryIsPublished() {
    Harness h = new Harness();
    // bf16 limit 5.55: q90 margin 2.0 + 0.003/step, sampled every 50 steps
    for (int s = 0; s <= 2000; s += 50) {
      h.feed(rowsRecord(s, 2.0 + 0.003 * s));
    }
    List<AlertEvent> f = h.firing();
    assertThat(f).isNotEmpty();
    assertThat(f.get(0).evidence())
        .containsEntry("dtype", "bfloat16")
        .containsEntry("margin_source", "rows_q90");
    // bf16 band: 3 x 5.55 / 16.64 = 1.0 nat: q90 (margin - 0.07) >= 4.55 from step ~873
    assertThat(f.get(0).step()).isEqualTo(900L);
    assertThat(f.get(0).evidence()).containsEntry("near_nats", 1.0); // 3 x 8/24 significand bits
    assertThat(f).anyMatch(a -> a.severity() == Severity.CRITICAL); // rows absorb in bf16
  }

  @Test
  void aWellTrainedBfloat16ClassifierWithSteadyMarginsOfThreeIsNotApproachingTheLimit() {
    // margins 3.0 .. 3.4 nats, creeping up: 2.1 nats below bf16's 5.55, inside the old fixed
    // 3-nat band, far outside the scaled 1-nat one; weight decay, absorbed fraction <= 0.1%
    Harness h = new Harness();
    for (int s = 0; s <= 2000; s += 50) {
      h.feed(rowsRecord(s, 3.0 + 0.0002 * s));
    }
    assertThat(h.alerts).isEmpty();
  }

  @Test
  void aRegressionHeadWithoutSoftmaxNeverCollapses() {
    // logit-like metrics published, but the loss is squared error: margins of 40 mean nothing
    Harness h = new Harness();
    for (int s = 0; s <= 1000; s++) {
      TelemetryRecord r =
          rec(
              s,
              s == 0 ? "float32" : null,
              "logits/margin_mean",
              8.0 + 0.05 * s,
              "logits/absorbed_frac",
              s > 500 ? 0.9 : 0.0,
              "loss",
              0.3);
      h.feed(
          s == 0
              ? new TelemetryRecord(
                  RUN,
                  0,
                  -1,
                  null,
                  null,
                  r.metrics(),
                  Tags.of(Map.of("dtype", "float32", "loss", "mse")),
                  null)
              : r);
    }
    assertThat(h.alerts).isEmpty();
  }

  @Test
  void marginMeanAloneIsNoEvidenceOfASoftmax() {
    Harness h = new Harness();
    for (int s = 0; s <= 2000; s++) {
      h.feed(
          rec(
              s,
              s == 0 ? "float32" : null,
              "logits/margin_mean",
              8.0 + 0.005 * s,
              "param_norm",
              100 + 0.01 * s));
    }
    assertThat(h.alerts).isEmpty();
  }

  @Test
  void marginsThatExplodeWithTheLossAreTheDivergenceNotACollapse() {
    // a cross-entropy run blowing up: loss 0.3 -> 1e4, margin_mean 0.5 -> 1e3 past the limit
    Harness h = new Harness();
    for (int s = 0; s <= 700; s++) {
      double blow = s < 500 ? 1 : Math.pow(1.5, s - 500);
      h.feed(
          rec(
              s,
              s == 0 ? "float32" : null,
              "logits/margin_mean",
              Math.min(1e3, 0.5 * blow),
              "logits/absorbed_frac",
              0.0,
              "loss",
              Math.min(1e4, 0.3 * blow)));
    }
    assertThat(h.alerts).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"NaN", "Infinity", "-Infinity"})
  void toleratesNonFiniteAndAbsentInputs(String bad) {
    Harness h = new Harness();
    double v = Double.parseDouble(bad);
    for (int s = 0; s < 500; s++) {
      h.feed(
          s % 2 == 0
              ? rec(s, null, "logits/absorbed_frac", v, "logits/margin_mean", v, "param_norm", v)
              : rec(s, null, "loss", 1.0));
    }
    double[][] rows = {{v, 0, 1}, {1, 2}};
    h.feed(
        new TelemetryRecord(
            RUN,
            600,
            -1,
            null,
            null,
            Metrics.EMPTY,
            Tags.EMPTY,
            new LogitsSample("float32", new int[] {0, 7}, rows)));
    assertThat(h.alerts).isEmpty();
    assertThat(h.monitor.detectorFailures()).isZero();
  }

  @Test
  void warnsOnTheRealCollapseRunWellBeforeOnsetAndEscalatesAtIt() {
    Harness h = new Harness();
    Traces.load("sc-mlp-p97-lr3e-3-s1").forEach(h::feed);
    List<AlertEvent> f = h.firing();
    assertThat(f).hasSize(2);
    assertThat(f.get(0).severity()).isEqualTo(Severity.WARNING);
    assertThat(f.get(0).step()).isLessThanOrEqualTo(2188 - 150); // labelled onset 2188
    assertThat(f.get(1).severity()).isEqualTo(Severity.CRITICAL);
    assertThat(f.get(1).step()).isBetween(2188L, 2200L);
  }

  @ParameterizedTest(name = "{0}: bfloat16 collapse warned >= 200 steps before onset {1}")
  @org.junit.jupiter.params.provider.CsvSource({
    "psc-add-p113-bf16-lr5e-3-s2, 420",
    "psc-add-p113-sbf16-lr5e-3-s1, 334"
  })
  void warnsOnTheRealBfloat16CollapseRunsInTheirOwnDtype(String run, long onset) {
    Harness h = new Harness();
    Traces.load(run).forEach(h::feed);
    List<AlertEvent> f = h.firing();
    assertThat(f.get(0).severity()).isEqualTo(Severity.WARNING);
    assertThat(f.get(0).evidence())
        .containsEntry("dtype", "bfloat16")
        .containsEntry("limit_nats", 5.5452);
    assertThat(onset - f.get(0).step()).isGreaterThanOrEqualTo(200);
    assertThat(f).anyMatch(a -> a.severity() == Severity.CRITICAL && a.step() <= onset);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "grok-mlp-p97-wd1-s1",
        "grok-mlp-p97-wd1-s2",
        "mlp-p97-f64-s1",
        "mlp-digits-cosine-s0",
        "psc-add-p113-sbf16-orthograd-s1",
        // squared-error regression whose "logits" explode as it diverges: no softmax, no collapse
        "dg2-mse-tanh-lrjump-s3",
        "lm2-sgd-lrjump10-s1"
      })
  void staysQuietOnRealHealthyTwins(String run) {
    Harness h = new Harness();
    Traces.load(run).forEach(h::feed);
    assertThat(h.alerts).isEmpty();
  }

  @Test
  void restoredStateGivesIdenticalSubsequentAlerts() throws IOException {
    List<TelemetryRecord> trace = Traces.load("sc-mlp-p97-lr5e-3-s3");
    int cut = 1700; // margin line and counters hold state, the warning is already firing
    Harness a = new Harness();
    trace.subList(0, cut).forEach(a::feed);
    assertThat(a.firing()).hasSize(1);
    SoftmaxAbsorptionDetector original = (SoftmaxAbsorptionDetector) a.monitor.detectors().get(0);
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    original.writeState(new DataOutputStream(buf));
    assertThat(buf.size()).isLessThan(256);

    SoftmaxAbsorptionDetector restored = new SoftmaxAbsorptionDetector();
    restored.readState(new DataInputStream(new ByteArrayInputStream(buf.toByteArray())));
    ByteArrayOutputStream again = new ByteArrayOutputStream();
    restored.writeState(new DataOutputStream(again));
    assertThat(again.toByteArray()).isEqualTo(buf.toByteArray());

    // the whole monitor (context with dtype, last step, every registered detector) round-trips
    ByteArrayOutputStream mon = new ByteArrayOutputStream();
    a.monitor.write(new DataOutputStream(mon));
    RunMonitor b =
        RunMonitor.read(
            a.monitor.context().config(),
            new DataInputStream(new ByteArrayInputStream(mon.toByteArray())));
    List<AlertEvent> tailA = new ArrayList<>();
    List<AlertEvent> tailB = new ArrayList<>();
    for (TelemetryRecord r : trace.subList(cut, trace.size())) {
      a.monitor.observe(r, tailA::add);
      b.observe(
          r,
          e -> {
            if (e.detector().equals(SoftmaxAbsorptionDetector.NAME)) {
              tailB.add(e);
            }
          });
    }
    assertThat(tailA).isNotEmpty();
    assertThat(tailB).isEqualTo(tailA);
  }
}
