package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.Evidence;
import dev.trainwatch.jobs.detect.Fmt;
import dev.trainwatch.jobs.detect.Hysteresis;
import dev.trainwatch.jobs.detect.LatchedDetector;
import dev.trainwatch.jobs.detect.LrPhase;
import dev.trainwatch.jobs.detect.RunContext;
import dev.trainwatch.jobs.detect.Setting;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.jobs.detect.SettingsDef;
import dev.trainwatch.jobs.detect.Verdict;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * {@code update_ratio} (|update| / |weights| per step) out of range for a sustained stretch. Around
 * 1e-3 is the usual healthy value; far above, each step rewrites a sizeable share of the weights
 * (LR too high); far below while the LR is near its peak, the run stopped learning (vanishing
 * gradients, dead units). The low side is skipped once the schedule has decayed the LR below {@code
 * low_lr_fraction} of its peak, where tiny updates are intended. Warning.
 */
public final class UpdateRatioDetector extends LatchedDetector implements LrPhase.Reader {

  public static final String NAME = "update_ratio";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS = new SettingsDef("instability.update_ratio.");

  public static final Setting<Double> HIGH =
      SETTINGS.number(
          "high",
          0.05,
          Setting.above(0),
          "warning when `update_ratio` stays above this (steps rewrite too much of the weights)");
  public static final Setting<Double> LOW =
      SETTINGS.number(
          "low",
          1e-7,
          Setting.atLeast(0),
          "warning when it stays below this while the LR is near its peak (the run stopped learning)");
  public static final Setting<Double> LOW_LR_FRACTION =
      SETTINGS.number(
          "low_lr_fraction",
          0.1,
          Setting.between(0, 1),
          "the low check applies only while lr >= this share of the peak LR (decayed schedules intend tiny updates)");
  public static final Setting<Integer> SUSTAIN =
      SETTINGS.integer(
          "sustain",
          20,
          Setting.atLeast(1),
          "consecutive records out of range (or back in range) needed");
  public static final Setting<Integer> MIN_STEPS =
      SETTINGS.integer(
          "min_steps",
          100,
          Setting.atLeast(0),
          "quiet for the first steps of the run (weights near their small initial values make every step relatively large)");
  public static final Setting<Integer> SETTLE =
      SETTINGS.integer(
          "settle",
          50,
          Setting.atLeast(0),
          "quiet for this many steps after an LR warm-up ramp, restart or task switch");

  /**
   * @param high ratio above which updates are too large (0.05; the worst healthy run here, a
   *     qk-layernorm LM at lr 0.2, sustains ~0.025, the diverging ones 0.011)
   * @param low ratio below which the run is not learning (1e-7: 1e7 steps to move the weights by
   *     their own norm; runs at peak LR here sustain at least 3.6e-6, a softmax-collapsed one)
   * @param lowLrFraction the low check applies only while lr >= this share of the peak LR (0.1)
   * @param sustain consecutive records out of range before firing, and in range to resolve (20)
   * @param minSteps quiet for the first steps of the run and while the LR warms up (100): while the
   *     weights are still near their small initial values every optimizer takes relatively large
   *     steps, which says nothing about the run's health
   * @param settle quiet for this many steps after a warm-up ramp, LR restart or task switch (50)
   */
  public record Config(
      double high, double low, double lowLrFraction, int sustain, int minSteps, int settle) {
    public static Config from(Settings s) {
      return new Config(
          s.get(HIGH),
          s.get(LOW),
          s.get(LOW_LR_FRACTION),
          s.get(SUSTAIN),
          s.get(MIN_STEPS),
          s.get(SETTLE));
    }
  }

  private LrPhase phase = new LrPhase(); // the run's, once hosted (readPhaseOf)
  private final Hysteresis hysteresis = new Hysteresis();
  private double peakLr = Double.NaN;

  public UpdateRatioDetector() {
    super(Family.INSTABILITY, NAME, 2, 1);
  }

  @Override
  protected Verdict judge(TelemetryRecord r, RunContext ctx) {
    if (phase.restarted() && !firing()) {
      hysteresis.reset();
    }
    double lr = ctx.lr();
    if (Double.isFinite(lr)) {
      peakLr = Double.isNaN(peakLr) ? lr : Math.max(peakLr, lr);
    }
    double u = r.metrics().get(MetricNames.UPDATE_RATIO);
    if (!Double.isFinite(u)) {
      return Verdict.HOLD;
    }
    Config c = config(ctx, Config.class, Config::from);
    if (!firing() && phase.quiet(r.step(), c.minSteps(), c.settle())) {
      return Verdict.HOLD;
    }
    boolean lrHigh = Double.isNaN(lr) || lr >= c.lowLrFraction() * peakLr;
    boolean tooHigh = u > c.high();
    boolean tooLow = u < c.low() && lrHigh;
    if (!firing()) {
      if (!hysteresis.fires(tooHigh || tooLow, c.sustain())) {
        return Verdict.HOLD;
      }
      return Verdict.warning(
          Fmt.fmt(
              "update_ratio %.3g %s for %d records",
              u,
              tooHigh ? "> " + c.high() + " (steps too large)" : "< " + c.low() + " (not learning)",
              c.sustain()),
          Remedies.withRollback(Remedies.UPDATE, ctx),
          Evidence.of()
              .num("update_ratio", u)
              .num("threshold", tooHigh ? c.high() : c.low())
              .text("side", tooHigh ? "high" : "low")
              .num("lr", lr)
              .count("records", c.sustain()));
    }
    if (!hysteresis.resolves(!tooHigh && !tooLow, c.sustain())) {
      return Verdict.HOLD;
    }
    return Verdict.resolve("update_ratio back in range", Evidence.of().num("update_ratio", u));
  }

  @Override
  public void readPhaseOf(LrPhase shared) {
    phase = shared;
  }

  @Override
  protected void writeRuleState(DataOutput out) throws IOException {
    hysteresis.write(out);
    out.writeDouble(peakLr);
  }

  @Override
  protected void readRuleState(DataInput in, int version) throws IOException {
    if (version < 2) {
      phase.read(in); // the run's phase, kept in this frame before it was shared
    }
    hysteresis.read(in);
    peakLr = in.readDouble();
  }
}
