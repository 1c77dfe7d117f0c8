package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.Evidence;
import dev.trainwatch.jobs.detect.Fmt;
import dev.trainwatch.jobs.detect.Hysteresis;
import dev.trainwatch.jobs.detect.LatchedDetector;
import dev.trainwatch.jobs.detect.Layers;
import dev.trainwatch.jobs.detect.LrPhase;
import dev.trainwatch.jobs.detect.MetricSink;
import dev.trainwatch.jobs.detect.MetricsReporter;
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
import java.util.List;

/**
 * Gradient-norm spikes, Stable-SPAM style: {@code grad_norm} far above both its EMA (the typical
 * norm) and its slowly decaying running maximum (the largest norm the run has recently lived with).
 * Requiring both keeps ordinary bursty phases quiet: a norm that beats its EMA but not its recent
 * max is the run's normal noise. Spikes are kept out of the baseline. Quiet while the loss is ~0
 * (memorised regime, see {@link Config}), during warmup; an LR restart or task switch starts a new
 * baseline. Warning; resolves after {@code resolve_after} spike-free records.
 */
public final class GradNormSpikeDetector extends LatchedDetector
    implements MetricsReporter, LrPhase.Reader {

  public static final String NAME = "grad_norm_spike";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS = new SettingsDef("instability.grad_norm_spike.");

  public static final Setting<Double> EMA_RATIO =
      SETTINGS.number(
          "ema_ratio",
          5,
          Setting.above(0),
          "warning when `grad_norm` exceeds this multiple of its EMA...");
  public static final Setting<Double> MAX_RATIO =
      SETTINGS.number(
          "max_ratio",
          2,
          Setting.above(0),
          "...and this multiple of its slowly decaying running max (Stable-SPAM style); spikes stay out of both");
  public static final Setting<Double> EMA_BETA =
      SETTINGS.number(
          "ema_beta",
          0.98,
          Setting.strictlyBetween(0, 1),
          "EMA decay per record (~50-record memory)");
  public static final Setting<Double> MAX_DECAY =
      SETTINGS.number(
          "max_decay",
          0.999,
          Setting.strictlyBetween(0, 1),
          "per-record decay of the running max (~1000-record memory)");
  public static final Setting<Integer> MIN_STEPS =
      SETTINGS.integer("min_steps", 100, Setting.atLeast(0), "records before alerting");
  public static final Setting<Integer> SETTLE =
      SETTINGS.integer(
          "settle",
          50,
          Setting.atLeast(0),
          "steps after warmup, an LR restart or a task switch before alerting");
  public static final Setting<Integer> RESOLVE_AFTER =
      SETTINGS.integer(
          "resolve_after",
          50,
          Setting.atLeast(1),
          "spike-free records before the warning resolves");
  public static final Setting<Double> MIN_BASELINE_LOSS =
      SETTINGS.number(
          "min_baseline_loss",
          0.01,
          Setting.atLeast(0),
          "below this (robust) loss EMA the run has memorised its data and spikes are Adam \"slingshots\" of the softmax-collapse regime: not judged");
  public static final Setting<Double> Z =
      SETTINGS.number(
          "z",
          6.0,
          Setting.atLeast(0),
          "...and log `grad_norm` must be this many robust sigmas (1.4826 MAD of the last 64 non-spike values) above its median: small-batch gradients are heavy-tailed (a log-sd of 0.5 puts norms at 2.5x the running max in an ordinary run), so the rule scales with the run's own noise");

  /**
   * @param emaRatio grad_norm / EMA that counts as a spike (5; healthy runs reach 8.7 but only
   *     where the running max is 3x higher)
   * @param maxRatio grad_norm / running max that counts as a spike (2; healthy runs reach 1.31)
   * @param emaBeta EMA decay per record (0.98, ~50-step memory)
   * @param maxDecay per-record decay of the running max (0.999, ~1000-step memory, as
   *     Stable-SPAM's)
   * @param minSteps records before the baseline is trusted (100)
   * @param settle steps after warmup ends, a restart or a task switch before alerting (50)
   * @param resolveAfter spike-free records before the warning resolves (50)
   * @param minBaselineLoss loss EMA (nats) below which the run counts as having memorised its
   *     training set and spikes are not judged (0.01): there gradients have vanished (1e-6) and
   *     Adam's "slingshot" (Thilak et al. 2022) multiplies them 1e5x, a softmax-collapse effect
   *     that family reports
   * @param z ...and log grad_norm must be this many robust sigmas (1.4826 MAD of the last 64
   *     non-spike values) above their median (6): small-batch gradients are heavy-tailed, a log-sd
   *     of 0.5 puts 2.5x-the-running-max norms in an ordinary run; this scales the rule with the
   *     run's own noise
   */
  public record Config(
      double emaRatio,
      double maxRatio,
      double emaBeta,
      double maxDecay,
      int minSteps,
      int settle,
      int resolveAfter,
      double minBaselineLoss,
      double z) {
    public static Config from(Settings s) {
      return new Config(
          s.get(EMA_RATIO),
          s.get(MAX_RATIO),
          s.get(EMA_BETA),
          s.get(MAX_DECAY),
          s.get(MIN_STEPS),
          s.get(SETTLE),
          s.get(RESOLVE_AFTER),
          s.get(MIN_BASELINE_LOSS),
          s.get(Z));
    }
  }

  private LrPhase phase = new LrPhase(); // the run's, once hosted (readPhaseOf)
  private double ema = Double.NaN;
  private double runMax = Double.NaN;
  private double lossEma = Double.NaN;

  /** Spike-free records in a row while firing (the release side). */
  private final Hysteresis hysteresis = new Hysteresis();

  private final RobustWindow logNorm = new RobustWindow();

  public GradNormSpikeDetector() {
    // state format 2: a Hysteresis (held, calm) where format 1 had the calm count alone
    super(Family.INSTABILITY, NAME, 3, 1);
  }

  @Override
  protected Verdict judge(TelemetryRecord r, RunContext ctx) {
    if (phase.restarted()) {
      ema = Double.NaN;
      runMax = Double.NaN;
      lossEma = Double.NaN;
      logNorm.clear();
    }
    double g = r.metrics().get(MetricNames.GRAD_NORM);
    if (!Double.isFinite(g) || g < 0) {
      return Verdict.HOLD;
    }
    Config c = config(ctx, Config.class, Config::from);
    double loss = r.metrics().get(MetricNames.LOSS);
    if (Double.isFinite(loss) && loss >= 0) {
      // Robust EWMA: a step contributes at most 10x the current level, so the loss bursts of
      // a slingshot cannot lift the memorised-regime gate within the burst itself.
      double x = Double.isNaN(lossEma) ? loss : Math.min(loss, 10 * lossEma);
      lossEma = Double.isNaN(lossEma) ? x : c.emaBeta() * lossEma + (1 - c.emaBeta()) * x;
    }
    boolean quiet =
        phase.quiet(r.step(), c.minSteps(), c.settle())
            || Double.isNaN(ema)
            || lossEma < c.minBaselineLoss();
    boolean spike =
        !quiet && g > c.emaRatio() * ema && g > c.maxRatio() * runMax && robustZ(g) >= c.z();
    if (spike) {
      hysteresis.unsettle(); // a spike breaks the spike-free streak
      if (firing()) {
        return Verdict.HOLD; // spikes stay out of the baseline
      }
      // the layers whose gradient norm is largest (at least half the largest), when published
      List<String> layers = Layers.top(r.metrics(), MetricNames.GRAD_NORM, 3, 0.5);
      return Verdict.warning(
          Fmt.fmt(
              "gradient norm spike %s%s: %s its EMA %s, %s its running max %s",
              Fmt.num(g),
              Layers.text(layers),
              Fmt.times(g / ema),
              Fmt.num(ema),
              Fmt.times(g / runMax),
              Fmt.num(runMax)),
          Remedies.withRollback(Remedies.GRADIENT, ctx),
          Evidence.of()
              .num("grad_norm", g)
              .num("baseline_ema", ema)
              .num("running_max", runMax)
              .num("ratio_to_ema", g / ema)
              .num("ratio_to_max", g / runMax)
              .num("threshold_ema_ratio", c.emaRatio())
              .num("threshold_max_ratio", c.maxRatio())
              .num("threshold_z", c.z())
              .num("lr", ctx.lr())
              .list("layers", layers));
    }
    if (g > 0) {
      logNorm.add(Math.log(g));
    }
    ema = Double.isNaN(ema) ? g : c.emaBeta() * ema + (1 - c.emaBeta()) * g;
    runMax = Double.isNaN(runMax) ? g : Math.max(runMax * c.maxDecay(), g);
    if (!firing() || !hysteresis.release(true, c.resolveAfter())) {
      return Verdict.HOLD;
    }
    int calm = hysteresis.calm();
    hysteresis.reset();
    return Verdict.resolve(
        "no gradient spike for " + calm + " records",
        Evidence.of().num("grad_norm", g).num("baseline_ema", ema));
  }

  /**
   * Robust z of log grad_norm against the recent non-spike window (+inf until it has 32 values).
   */
  private double robustZ(double g) {
    if (logNorm.size() < RobustWindow.CAPACITY / 2 || g <= 0) {
      return Double.POSITIVE_INFINITY;
    }
    double med = logNorm.median();
    return (Math.log(g) - med) / Math.max(logNorm.sigma(med), 1e-6);
  }

  @Override
  public void readPhaseOf(LrPhase shared) {
    phase = shared;
  }

  @Override
  protected void writeRuleState(DataOutput out) throws IOException {
    out.writeDouble(ema);
    out.writeDouble(runMax);
    out.writeDouble(lossEma);
    hysteresis.write(out);
    logNorm.write(out);
  }

  @Override
  protected void readRuleState(DataInput in, int version) throws IOException {
    if (version < 3) {
      phase.read(in); // the run's phase, kept in this frame before it was shared
    }
    ema = in.readDouble();
    runMax = in.readDouble();
    lossEma = in.readDouble();
    hysteresis.read(in, version == 1);
    logNorm.read(in);
  }

  /** The baselines a gradient norm is compared with: its EMA and its decaying running max. */
  @Override
  public void reportMetrics(TelemetryRecord r, RunContext ctx, MetricSink out) {
    if (Double.isFinite(ema)) {
      out.metric(NAME, "grad_norm_ema", ema);
    }
    if (Double.isFinite(runMax)) {
      out.metric(NAME, "grad_norm_running_max", runMax);
    }
  }
}
