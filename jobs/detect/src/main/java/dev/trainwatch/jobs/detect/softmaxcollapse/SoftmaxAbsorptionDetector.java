package dev.trainwatch.jobs.detect.softmaxcollapse;

import dev.trainwatch.jobs.detect.AlertSink;
import dev.trainwatch.jobs.detect.Evidence;
import dev.trainwatch.jobs.detect.LatchedDetector;
import dev.trainwatch.jobs.detect.MetricSink;
import dev.trainwatch.jobs.detect.MetricsReporter;
import dev.trainwatch.jobs.detect.RunContext;
import dev.trainwatch.jobs.detect.Setting;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.jobs.detect.SettingsDef;
import dev.trainwatch.jobs.detect.Verdict;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.LogitsSample;
import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Softmax collapse (Prieto et al. 2025): the logits scale up along the weights until the softmax of
 * the true class rounds to exactly 1.0 in the dtype of the softmax, the sample's loss and gradient
 * become exactly 0 and learning stops.
 *
 * <ul>
 *   <li><b>warning, absorption starting</b>: the absorbed fraction (summary {@code
 *       logits/absorbed_frac} or {@code logits/zero_loss_frac}, else recomputed from the sampled
 *       rows in the dtype) is at least {@code absorbed_warn} on {@code absorbed_warn_obs}
 *       consecutive observations;
 *   <li><b>warning, margins approaching the limit</b>: the smoothed high quantile of the sampled
 *       rows' label margins (else {@code logits/margin_mean}) is within {@code near} nats of the
 *       dtype's limit {@code p ln 2}, rising, with a linear ETA within {@code horizon} steps, and,
 *       when {@code param_norm} is published, the weights growing;
 *   <li><b>critical</b>: absorbed fraction at least {@code absorbed_critical} (the onset in Prieto
 *       et al.) on {@code absorbed_critical_obs} consecutive observations;
 *   <li><b>resolved</b>: absorbed fraction below {@code absorbed_resolve} and no margin warning for
 *       {@code resolve_steps} steps.
 * </ul>
 *
 * The margin limit is dtype-aware, so a float64 run with margins of 17 is far from trouble (limit
 * 36.7) while the same margins in float32 (limit 16.6) are collapse.
 */
public final class SoftmaxAbsorptionDetector extends LatchedDetector implements MetricsReporter {

  public static final String NAME = "softmax_absorption";
  static final String PREFIX = "softmax_collapse." + NAME + ".";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS =
      new SettingsDef("softmax_collapse.softmax_absorption.");

  public static final Setting<String> DEFAULT_DTYPE =
      SETTINGS.choice(
          "default_dtype",
          "float32",
          List.of("float32", "bfloat16", "float16", "float64"),
          "dtype assumed when neither `tags.dtype` nor the sampled logits name one");
  public static final Setting<Double> ABSORBED_WARN =
      SETTINGS.number(
          "absorbed_warn",
          0.01,
          Setting.between(0, 1),
          "absorbed fraction meaning absorption has started (public collapse runs cross it ~250 steps before the 0.5 onset; weight-decay controls stay <= 0.0003)");
  public static final Setting<Integer> ABSORBED_WARN_OBS =
      SETTINGS.integer(
          "absorbed_warn_obs",
          3,
          Setting.atLeast(1),
          "consecutive observations at or above `absorbed_warn` (one noisy batch or one absorbed row is not a trend)");
  public static final Setting<Double> ABSORBED_CRITICAL =
      SETTINGS.number(
          "absorbed_critical",
          0.5,
          Setting.between(0, 1),
          "absorbed fraction that is collapse under way (onset of Prieto et al. and of the trace labels)");
  public static final Setting<Integer> ABSORBED_CRITICAL_OBS =
      SETTINGS.integer(
          "absorbed_critical_obs",
          2,
          Setting.atLeast(1),
          "consecutive observations at or above `absorbed_critical`");
  public static final Setting<Double> ABSORBED_RESOLVE =
      SETTINGS.number(
          "absorbed_resolve",
          0.005,
          Setting.between(0, 1),
          "absorbed fraction under which the alert may resolve (hysteresis: half the warning level)");
  public static final Setting<Double> MARGIN_QUANTILE =
      SETTINGS.number(
          "margin_quantile",
          0.9,
          Setting.between(0, 1),
          "quantile of the sampled rows' label margins that is trended (the first rows to absorb matter)");
  public static final Setting<Double> ROWS_NEAR_NATS =
      SETTINGS.number(
          "rows_near_nats",
          3.0,
          Setting.above(0),
          "the rows' margin must be within this many nats of `p ln 2` (float32; x `p / 24` below it: bf16 1.0, fp16 1.38)");
  public static final Setting<Double> ROWS_HORIZON_STEPS =
      SETTINGS.number(
          "rows_horizon_steps",
          500,
          Setting.above(0),
          "warn when the rows' margin line reaches the limit within this many steps");
  public static final Setting<Double> SUMMARY_NEAR_NATS =
      SETTINGS.number(
          "summary_near_nats",
          2.0,
          Setting.above(0),
          "the same for `logits/margin_mean` (scaled the same way) (top-1 minus top-2 overstates the label margin, hence tighter)");
  public static final Setting<Double> SUMMARY_HORIZON_STEPS =
      SETTINGS.number(
          "summary_horizon_steps", 300, Setting.above(0), "horizon for the `margin_mean` fallback");
  public static final Setting<Double> TREND_TAU_STEPS =
      SETTINGS.number(
          "trend_tau_steps",
          200,
          Setting.above(0),
          "age in steps at which an observation weighs 1/e in the margin and norm lines");
  public static final Setting<Integer> TREND_MIN_OBS =
      SETTINGS.integer(
          "trend_min_obs", 4, Setting.atLeast(1), "observations a line needs before it is trusted");
  public static final Setting<Integer> TREND_MIN_SPAN_STEPS =
      SETTINGS.integer(
          "trend_min_span_steps",
          100,
          Setting.atLeast(0),
          "steps a line must span before it is trusted");
  public static final Setting<Integer> STALE_STEPS =
      SETTINGS.integer(
          "stale_steps",
          500,
          Setting.atLeast(0),
          "sampled rows older than this no longer count; the summary metrics take over");
  public static final Setting<Boolean> REQUIRE_NORM_GROWTH =
      SETTINGS.flag(
          "require_norm_growth",
          true,
          "margin warnings need `param_norm` rising when it is published (collapse is the weights scaling along themselves; weight decay shrinks them)");
  public static final Setting<Integer> RESOLVE_STEPS =
      SETTINGS.integer(
          "resolve_steps",
          200,
          Setting.atLeast(0),
          "steps the condition must stay clear before the alert resolves");
  public static final Setting<Integer> REDUCTION_LANES =
      SETTINGS.integer(
          "reduction_lanes",
          SoftmaxNumerics.DEFAULT_LANES,
          Setting.powerOfTwoAtMost(64),
          "accumulator lanes of the softmax sum when replaying rows (8: PyTorch AVX2 float32 CPU; 1: sequential; power of two <= 64)");
  public static final Setting<Double> RESOLVE_ETA_FACTOR =
      SETTINGS.number(
          "resolve_eta_factor",
          2.0,
          Setting.above(0),
          "a firing margin warning stays until the ETA exceeds this multiple of the horizon (or the gap exceeds near + 0.5 nat)");

  /** Losses of a regression head: no softmax, so no softmax collapse whatever the "logits" do. */
  static final Set<String> NON_SOFTMAX_LOSSES =
      Set.of(
          "mse",
          "l2",
          "rmse",
          "l1",
          "mae",
          "huber",
          "smooth_l1",
          "smoothl1",
          "mse_loss",
          "l1_loss",
          "huber_loss",
          "squared_error");

  static final String REMEDY =
      "Absorbed samples get exactly zero gradient, so learning stops."
          + " Use StableMax instead of softmax in the loss, add weight decay (e.g. AdamW) so the"
          + " logits stop scaling along the weights, or compute the softmax/cross-entropy in higher"
          + " precision (float64; float32 when training in bf16/fp16); perpGrad (orthogonal"
          + " gradient) removes the weight-aligned update.";

  /**
   * Thresholds of the detector; keys are {@code softmax_collapse.softmax_absorption.<name>}.
   *
   * @param defaultDtype dtype assumed when neither {@code tags.dtype} nor the sampled logits name
   *     one; float32, the common softmax dtype (bf16/fp16 training usually upcasts the loss).
   * @param absorbedWarn absorbed fraction that means absorption has started (0.01: Prieto's runs
   *     and the public traces cross it ~250 steps before the 0.5 onset; weight-decay controls stay
   *     below 0.001).
   * @param absorbedWarnObs consecutive observations at or above {@code absorbedWarn} (3: one noisy
   *     batch, or one absorbed row of 8 sampled, is not a trend).
   * @param absorbedCritical absorbed fraction that is collapse under way (0.5, the onset used by
   *     Prieto et al. and the trace labels).
   * @param absorbedCriticalObs consecutive observations at or above {@code absorbedCritical} (2, so
   *     one sampled batch of 8 rows cannot escalate alone).
   * @param absorbedResolve absorbed fraction under which the alert may resolve (0.005, half of the
   *     warning level: hysteresis).
   * @param marginQuantile quantile of the sampled rows' label margins that is trended (0.9: the
   *     first rows to absorb are the ones that matter for a precursor).
   * @param rowsNearNats the rows' margin must be within this many nats of {@code p ln 2} (3:
   *     DETECTORS.md suggests 2..3; at a typical growth of 0.005 nat/step that is ~600 steps).
   * @param rowsHorizonSteps warn when the margin line reaches the limit within this many steps
   *     (500; weight-decay controls level off and their ETA never drops below ~750).
   * @param summaryNearNats the same for {@code logits/margin_mean} (top-1 minus top-2 averaged),
   *     which overstates the label margin by ~1 nat, hence tighter (2).
   * @param summaryHorizonSteps horizon for the {@code margin_mean} fallback (300).
   * @param trendTauSteps age in steps at which an observation weighs 1/e in the margin and norm
   *     lines (200: long enough to average mini-batch noise, short enough to follow a change).
   * @param trendMinObs observations a line needs before it is trusted (4).
   * @param trendMinSpanSteps steps a line must span before it is trusted (100).
   * @param staleSteps sampled rows older than this no longer count as current and the detector
   *     falls back to the summary metrics (500).
   * @param requireNormGrowth margin warnings also need {@code param_norm} rising when it is
   *     published: collapse is the weights scaling up along themselves; with weight decay the norm
   *     shrinks and margins level off (true).
   * @param resolveSteps steps the condition must stay clear before the alert resolves (200).
   * @param reductionLanes accumulator lanes of the softmax sum when replaying sampled rows (8,
   *     PyTorch's AVX2 float32 CPU kernel, which reproduces the traces' published absorbed
   *     fraction; 1 for a sequential sum; a power of two).
   * @param resolveEtaFactor hysteresis of the margin warning: it only counts as clear once the ETA
   *     exceeds this multiple of the horizon or the gap exceeds {@code near} + 0.5 nat (2).
   */
  public record Config(
      Dtype defaultDtype,
      double absorbedWarn,
      int absorbedWarnObs,
      double absorbedCritical,
      int absorbedCriticalObs,
      double absorbedResolve,
      double marginQuantile,
      double rowsNearNats,
      double rowsHorizonSteps,
      double summaryNearNats,
      double summaryHorizonSteps,
      double trendTauSteps,
      int trendMinObs,
      long trendMinSpanSteps,
      long staleSteps,
      boolean requireNormGrowth,
      long resolveSteps,
      int reductionLanes,
      double resolveEtaFactor,
      String rowsMarginSource) {

    public static Config from(Settings s) {
      // the declaration admits only names Dtype knows
      Dtype d = Dtype.parse(s.get(DEFAULT_DTYPE), null);
      return new Config(
          d,
          s.get(ABSORBED_WARN),
          s.get(ABSORBED_WARN_OBS),
          s.get(ABSORBED_CRITICAL),
          s.get(ABSORBED_CRITICAL_OBS),
          s.get(ABSORBED_RESOLVE),
          s.get(MARGIN_QUANTILE),
          s.get(ROWS_NEAR_NATS),
          s.get(ROWS_HORIZON_STEPS),
          s.get(SUMMARY_NEAR_NATS),
          s.get(SUMMARY_HORIZON_STEPS),
          s.get(TREND_TAU_STEPS),
          s.get(TREND_MIN_OBS),
          s.get(TREND_MIN_SPAN_STEPS),
          s.get(STALE_STEPS),
          s.get(REQUIRE_NORM_GROWTH),
          s.get(RESOLVE_STEPS),
          s.get(REDUCTION_LANES),
          s.get(RESOLVE_ETA_FACTOR),
          // the sampled rows' margin quantile as alerts name it (rows_q99): built here once, not
          // per record (string building was 9% of all detectors' CPU)
          "rows_q" + Math.round(s.get(MARGIN_QUANTILE) * 100));
    }
  }

  // --- state (persisted, in this order) ---
  private final MarginOutlook outlook = new MarginOutlook();
  private final AbsorbedFraction absorbed = new AbsorbedFraction();
  private long clearSince = -1;

  /** A softmax-specific signal was seen: absorbed/zero-loss fractions or labelled logit rows. */
  private boolean softmaxSeen;

  /** tags.loss names a loss without a softmax (squared error, L1, Huber): nothing to collapse. */
  private boolean noSoftmax;

  private final DivergenceGate gate = new DivergenceGate();

  // --- scratch (not state) ---
  private final SampledRows rows = new SampledRows();
  private String dtypeName;
  private Dtype dtype;

  public SoftmaxAbsorptionDetector() {
    super(Family.SOFTMAX_COLLAPSE, NAME);
  }

  @Override
  protected Verdict judge(TelemetryRecord r, RunContext ctx) {
    String lossTag = r.tags().get("loss");
    if (lossTag != null) {
      noSoftmax = NON_SOFTMAX_LOSSES.contains(lossTag.trim().toLowerCase(Locale.ROOT));
    }
    if (noSoftmax && !firing()) {
      return Verdict.HOLD;
    }
    Config c = config(ctx, Config.class, Config::from);
    Dtype dt = dtype(ctx, c);
    long step = r.step();
    Metrics m = r.metrics();
    gate.track(m, step);
    double summary = AbsorbedFraction.ofSummary(m);
    boolean observed = false;
    if (Double.isFinite(summary)) {
      absorbed.observe(summary, AbsorbedFraction.SRC_SUMMARY, c);
      observed = true;
      softmaxSeen = true;
    }
    LogitsSample ls = r.logits();
    if (ls != null && ls.size() > 0) {
      // the rows' absorbed share counts only when no summary fraction came
      if (rows.read(ls, dt, c, !observed)) {
        outlook.addRows(step, rows.marginQuantile(), c);
        if (!observed) {
          absorbed.observe(rows.absorbedShare(), AbsorbedFraction.SRC_ROWS, c);
        }
      }
      softmaxSeen = true;
    }
    outlook.addSummary(step, m.get(MetricNames.LOGITS_MARGIN_MEAN), c);
    outlook.addParamNorm(step, m.get(MetricNames.PARAM_NORM), c);
    return decide(r, ctx, c, dt);
  }

  private Verdict decide(TelemetryRecord r, RunContext ctx, Config c, Dtype dt) {
    long step = r.step();
    MarginOutlook.View mv = outlook.view(step, c, dt);
    boolean marginWarn = mv != null && mv.warns();
    boolean marginHolds = mv != null && mv.holds();
    boolean absorbing = absorbed.absorbing(c);
    boolean critical = absorbed.critical(c);
    boolean clear = !marginHolds && !(absorbed.value() >= c.absorbedResolve()) && !absorbing;
    if (!clear) {
      clearSince = -1;
    } else if (clearSince < 0) {
      clearSince = step;
    }
    if (!firing() && (gate.diverging(step) || !softmaxSeen)) {
      return Verdict.HOLD; // no softmax evidence, or the evidence would be the divergence itself
    }
    if (critical && severity() != Severity.CRITICAL) {
      return Verdict.critical(
          CollapseReport.summary(Severity.CRITICAL, dt, mv, absorbed),
          REMEDY + ctx.rollbackHint(),
          evidence(r, c, dt, mv, "absorbed_critical"));
    }
    if ((absorbing || marginWarn) && !firing()) {
      return Verdict.warning(
          CollapseReport.summary(Severity.WARNING, dt, mv, absorbed),
          REMEDY,
          evidence(r, c, dt, mv, absorbing ? "absorption_started" : "margin_approaching_limit"));
    }
    if (firing() && clear && step - clearSince >= c.resolveSteps()) {
      return Verdict.resolve(
          CollapseReport.receded(dt, absorbed, step - clearSince),
          evidence(r, c, dt, mv, "receded"));
    }
    return Verdict.HOLD;
  }

  private Evidence evidence(
      TelemetryRecord r, Config c, Dtype dt, MarginOutlook.View mv, String trigger) {
    return CollapseReport.evidence(r, c, dt, mv, absorbed, outlook.paramNorm(c), trigger);
  }

  private Dtype dtype(RunContext ctx, Config c) {
    String n = ctx.dtype();
    if (dtype == null || !Objects.equals(n, dtypeName)) {
      dtypeName = n;
      dtype = Dtype.parse(n, c.defaultDtype());
    }
    return dtype;
  }

  /** The margin in use against the dtype's absorption limit, its ETA, and the absorbed fraction. */
  @Override
  public void reportMetrics(TelemetryRecord r, RunContext ctx, MetricSink out) {
    Config c = config(ctx, Config.class, Config::from);
    Dtype dt = dtype(ctx, c);
    out.metric(NAME, "margin_limit", dt.absorptionLimit());
    if (Double.isFinite(absorbed.value())) {
      out.metric(NAME, "absorbed_frac", absorbed.value());
    }
    MarginOutlook.View mv = outlook.view(r.step(), c, dt);
    if (mv != null) {
      out.metric(NAME, "margin", mv.level());
      out.metric(NAME, "margin_gap", mv.gap());
      if (Double.isFinite(mv.eta())) {
        out.metric(NAME, "eta_steps", mv.eta());
      }
    }
  }

  @Override
  public void onRunEnd(TelemetryRecord r, RunContext ctx, AlertSink out) {
    // A collapse at the end of a run is still a collapse: leave it firing for the report,
    // the run's state is dropped anyway. Nothing to resolve here.
  }

  @Override
  protected void writeRuleState(DataOutput out) throws IOException {
    outlook.write(out);
    absorbed.write(out);
    out.writeLong(clearSince);
    out.writeBoolean(softmaxSeen);
    out.writeBoolean(noSoftmax);
    gate.write(out);
  }

  @Override
  protected void readRuleState(DataInput in, int version) throws IOException {
    outlook.read(in);
    absorbed.read(in);
    clearSince = in.readLong();
    softmaxSeen = in.readBoolean();
    noSoftmax = in.readBoolean();
    gate.read(in);
  }
}
