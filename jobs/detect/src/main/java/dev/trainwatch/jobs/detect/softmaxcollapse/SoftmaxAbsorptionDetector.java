package dev.trainwatch.jobs.detect.softmaxcollapse;

import dev.trainwatch.jobs.detect.AlertLatch;
import dev.trainwatch.jobs.detect.AlertSink;
import dev.trainwatch.jobs.detect.Detector;
import dev.trainwatch.jobs.detect.RunContext;
import dev.trainwatch.jobs.detect.Setting;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.jobs.detect.SettingsDef;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.LogitsSample;
import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

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
public final class SoftmaxAbsorptionDetector
    implements Detector, dev.trainwatch.jobs.detect.MetricsReporter {

  public static final String NAME = "softmax_absorption";
  static final String PREFIX = "softmax_collapse." + NAME + ".";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS =
      new SettingsDef("softmax_collapse.softmax_absorption.");

  public static final Setting<String> DEFAULT_DTYPE =
      SETTINGS.choice(
          "default_dtype",
          "float32",
          java.util.List.of("float32", "bfloat16", "float16", "float64"),
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
  static final java.util.Set<String> NON_SOFTMAX_LOSSES =
      java.util.Set.of(
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

  /**
   * Smoothed loss this multiple of its best (and {@link #DIVERGING_RISE} above it) is a divergence.
   */
  static final double DIVERGING_RATIO = 2.0;

  static final double DIVERGING_RISE = 0.1;

  /** Steps after a non-finite loss or logit metric during which the run counts as diverging. */
  static final long NON_FINITE_HOLD = 50;

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
      double resolveEtaFactor) {

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
          s.get(RESOLVE_ETA_FACTOR));
    }
  }

  /** Margins this close to the limit count as at it (absorbed rows settle there). */
  private static final double AT_LIMIT_NATS = 0.5;

  private static final byte SRC_NONE = 0;
  private static final byte SRC_SUMMARY = 1;
  private static final byte SRC_ROWS = 2;

  // --- state (persisted) ---
  private final AlertLatch latch = new AlertLatch(Family.SOFTMAX_COLLAPSE, NAME);
  private final Trend rowsMargin = new Trend();
  private final Trend summaryMargin = new Trend();
  private final Trend paramNorm = new Trend();
  private double absorbed = Double.NaN; // last observed absorbed fraction
  private byte absorbedSource = SRC_NONE;
  private int warnRun;
  private int criticalRun;
  private long clearSince = -1;

  /** A softmax-specific signal was seen: absorbed/zero-loss fractions or labelled logit rows. */
  private boolean softmaxSeen;

  /** tags.loss names a loss without a softmax (squared error, L1, Huber): nothing to collapse. */
  private boolean noSoftmax;

  private double lossEwma = Double.NaN;
  private double lossMin = Double.NaN;
  private int lossCount;
  private long lastNonFinite = -1;

  // --- scratch (not state) ---
  private double[] margins = new double[16];
  private String dtypeName;
  private Dtype dtype;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void observe(TelemetryRecord r, RunContext ctx, AlertSink out) {
    String lossTag = r.tags().get("loss");
    if (lossTag != null) {
      noSoftmax = NON_SOFTMAX_LOSSES.contains(lossTag.trim().toLowerCase(Locale.ROOT));
    }
    if (noSoftmax && !latch.isFiring()) {
      return;
    }
    Config c = ctx.config(Config.class, Config::from);
    Dtype dt = dtype(ctx, c);
    long step = r.step();
    Metrics m = r.metrics();
    trackLoss(m, step);
    double summary = summaryAbsorbed(m);
    boolean observed = false;
    if (Double.isFinite(summary)) {
      observeAbsorbed(summary, SRC_SUMMARY, c);
      observed = true;
      softmaxSeen = true;
    }
    LogitsSample ls = r.logits();
    if (ls != null && ls.size() > 0) {
      observeRows(ls, dt, step, c, !observed);
      softmaxSeen = true;
    }
    double mm = m.get(MetricNames.LOGITS_MARGIN_MEAN);
    summaryMargin.add(step, mm, c.trendTauSteps());
    paramNorm.add(step, m.get(MetricNames.PARAM_NORM), c.trendTauSteps());
    decide(r, ctx, c, dt, out);
  }

  /** The margin in use against the dtype's absorption limit, its ETA, and the absorbed fraction. */
  @Override
  public void reportMetrics(
      TelemetryRecord r, RunContext ctx, dev.trainwatch.jobs.detect.MetricSink out) {
    Config c = ctx.config(Config.class, Config::from);
    Dtype dt = dtype(ctx, c);
    out.metric(NAME, "margin_limit", dt.absorptionLimit());
    if (Double.isFinite(absorbed)) {
      out.metric(NAME, "absorbed_frac", absorbed);
    }
    MarginView mv = marginView(r.step(), c, dt);
    if (mv != null) {
      out.metric(NAME, "margin", mv.level());
      out.metric(NAME, "margin_gap", mv.gap());
      if (Double.isFinite(mv.eta())) {
        out.metric(NAME, "eta_steps", mv.eta());
      }
    }
  }

  private Dtype dtype(RunContext ctx, Config c) {
    String n = ctx.dtype();
    if (dtype == null || !java.util.Objects.equals(n, dtypeName)) {
      dtypeName = n;
      dtype = Dtype.parse(n, c.defaultDtype());
    }
    return dtype;
  }

  /**
   * The loss and logit metrics the divergence gate reads: smoothed loss (EWMA, span 20) and its
   * running minimum, and the last step with a non-finite loss or {@code logits/*} metric.
   */
  private void trackLoss(Metrics m, long step) {
    double loss = m.get(MetricNames.LOSS);
    boolean bad = m.has(MetricNames.LOSS) && !Double.isFinite(loss);
    for (int i = 0; i < m.size() && !bad; i++) {
      bad = m.name(i).startsWith("logits/") && !Double.isFinite(m.value(i));
    }
    if (bad) {
      lastNonFinite = step;
    }
    if (Double.isFinite(loss)) {
      lossEwma = Double.isNaN(lossEwma) ? loss : lossEwma + 2.0 / 21 * (loss - lossEwma);
      lossCount = Math.min(lossCount + 1, 1 << 20);
      if (lossCount >= 20) {
        lossMin = Double.isNaN(lossMin) ? lossEwma : Math.min(lossMin, lossEwma);
      }
    }
  }

  /**
   * The run is diverging: a collapse alert now would have the divergence itself as its evidence
   * (exploding logits make huge margins, and "absorbed" labels of a loss in the thousands are
   * noise). Softmax collapse drives the loss to 0; it never comes with the loss rising.
   */
  boolean diverging(long step) {
    return lastNonFinite >= 0 && step - lastNonFinite <= NON_FINITE_HOLD
        || lossMin >= 0
            && lossEwma >= DIVERGING_RATIO * lossMin
            && lossEwma - lossMin >= DIVERGING_RISE;
  }

  /** max(absorbed_frac, zero_loss_frac) over the finite ones, NaN when neither is usable. */
  static double summaryAbsorbed(Metrics m) {
    double a = m.get(MetricNames.LOGITS_ABSORBED_FRAC);
    double z = m.get(MetricNames.LOGITS_ZERO_LOSS_FRAC);
    boolean fa = Double.isFinite(a) && a >= 0 && a <= 1;
    boolean fz = Double.isFinite(z) && z >= 0 && z <= 1;
    if (fa && fz) {
      return Math.max(a, z);
    }
    return fa ? a : fz ? z : Double.NaN;
  }

  private void observeAbsorbed(double frac, byte source, Config c) {
    absorbed = frac;
    absorbedSource = source;
    warnRun = frac >= c.absorbedWarn() ? Math.min(warnRun + 1, 1 << 20) : 0;
    criticalRun = frac >= c.absorbedCritical() ? Math.min(criticalRun + 1, 1 << 20) : 0;
  }

  /** Margins of the valid rows into the trend; their absorbed fraction when no summary came. */
  private void observeRows(LogitsSample ls, Dtype dt, long step, Config c, boolean countAbsorbed) {
    int n = ls.size();
    if (margins.length < n) {
      margins = new double[n];
    }
    int valid = 0;
    int absorbedRows = 0;
    for (int i = 0; i < n; i++) {
      double[] row = ls.rows()[i];
      double rm = SoftmaxNumerics.margin(row, ls.labels()[i]);
      if (Double.isNaN(rm)) {
        continue;
      }
      margins[valid++] = rm;
      if (countAbsorbed && SoftmaxNumerics.absorbs(row, ls.labels()[i], dt, c.reductionLanes())) {
        absorbedRows++;
      }
    }
    if (valid == 0) {
      return;
    }
    rowsMargin.add(step, quantile(margins, valid, c.marginQuantile()), c.trendTauSteps());
    if (countAbsorbed) {
      observeAbsorbed((double) absorbedRows / valid, SRC_ROWS, c);
    }
  }

  /** Linear-interpolated quantile of the first n values (sorts them in place). */
  static double quantile(double[] v, int n, double q) {
    Arrays.sort(v, 0, n);
    double pos = Math.max(0, Math.min(1, q)) * (n - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(n - 1, lo + 1);
    return v[lo] + (pos - lo) * (v[hi] - v[lo]);
  }

  private void decide(TelemetryRecord r, RunContext ctx, Config c, Dtype dt, AlertSink out) {
    long step = r.step();
    MarginView mv = marginView(step, c, dt);
    boolean marginWarn = mv != null && mv.warns;
    boolean marginHolds = mv != null && mv.holds;
    boolean absorbing = warnRun >= c.absorbedWarnObs();
    boolean critical = criticalRun >= c.absorbedCriticalObs();
    boolean clear = !marginHolds && !(absorbed >= c.absorbedResolve()) && !absorbing;
    if (!clear) {
      clearSince = -1;
    } else if (clearSince < 0) {
      clearSince = step;
    }
    if (!latch.isFiring() && (diverging(step) || !softmaxSeen)) {
      return; // no softmax evidence, or the evidence would be the divergence itself
    }
    if (critical && latch.severity() != Severity.CRITICAL) {
      latch.raise(
          Severity.CRITICAL,
          ctx,
          step,
          r.timeMs(),
          summary(Severity.CRITICAL, dt, mv),
          REMEDY + ctx.rollbackHint(),
          evidence(r, c, dt, mv, "absorbed_critical"),
          out);
    } else if ((absorbing || marginWarn) && !latch.isFiring()) {
      String why = absorbing ? "absorption_started" : "margin_approaching_limit";
      latch.raise(
          Severity.WARNING,
          ctx,
          step,
          r.timeMs(),
          summary(Severity.WARNING, dt, mv),
          REMEDY,
          evidence(r, c, dt, mv, why),
          out);
    } else if (latch.isFiring() && clear && step - clearSince >= c.resolveSteps()) {
      latch.resolve(
          ctx,
          step,
          r.timeMs(),
          String.format(
              Locale.ROOT,
              "softmax absorption receded: absorbed fraction %.4f, margins no longer approaching"
                  + " the %s limit for %d steps",
              nz(absorbed),
              dt.wire(),
              step - clearSince),
          evidence(r, c, dt, mv, "receded"),
          out);
    }
  }

  /** The margin line in use (sampled rows when current, else margin_mean) and its verdict. */
  private record MarginView(
      String source,
      double level,
      double slope,
      double gap,
      double eta,
      boolean warns,
      boolean holds) {}

  private MarginView marginView(long step, Config c, Dtype dt) {
    Trend t;
    String source;
    double near;
    double horizon;
    if (rowsMargin.count() > 0 && step - rowsMargin.lastStep() <= c.staleSteps()) {
      t = rowsMargin;
      source = "rows_q" + Math.round(c.marginQuantile() * 100);
      near = nearFor(c.rowsNearNats(), dt);
      horizon = c.rowsHorizonSteps();
    } else if (summaryMargin.count() > 0 && step - summaryMargin.lastStep() <= c.staleSteps()) {
      t = summaryMargin;
      source = "margin_mean";
      near = nearFor(c.summaryNearNats(), dt);
      horizon = c.summaryHorizonSteps();
    } else {
      return null;
    }
    if (!trusted(t, c)) {
      return null;
    }
    double level = t.level();
    double slope = t.slope();
    double gap = dt.absorptionLimit() - level;
    double eta = gap <= 0 ? 0 : slope > 0 ? gap / slope : Double.POSITIVE_INFINITY;
    boolean norm = normAllows(c);
    boolean warns = gap <= near && eta <= horizon && norm;
    // Keeps a firing alert: still approaching (relaxed), or sitting at the limit, where absorbed
    // samples stop learning (real collapsed rows hover within 0.5 nat below p ln 2).
    boolean holds =
        gap <= AT_LIMIT_NATS
            || gap <= near + AT_LIMIT_NATS && eta <= horizon * c.resolveEtaFactor() && norm;
    return new MarginView(source, level, slope, gap, eta, warns, holds);
  }

  /**
   * The "near the limit" band for the dtype: the settings are for float32 (limit 16.64) and scale
   * with the limit below it, so a bfloat16 margin must come as close in relative terms (3 nats of
   * 16.64 is 18%: 1.0 nat of bf16's 5.55, 1.37 of fp16's 7.62); otherwise any well-trained bf16
   * classifier (margins of 3) would "approach" 5.55. Never wider than set.
   */
  static double nearFor(double nearNats, Dtype dt) {
    return nearNats * Math.min(1.0, dt.absorptionLimit() / Dtype.FLOAT32.absorptionLimit());
  }

  private boolean trusted(Trend t, Config c) {
    return t.count() >= c.trendMinObs()
        && t.span() >= c.trendMinSpanSteps()
        && Double.isFinite(t.slope())
        && Double.isFinite(t.level());
  }

  /** False only when param_norm is published, trusted and not rising. */
  private boolean normAllows(Config c) {
    if (!c.requireNormGrowth()
        || !trusted(paramNorm, c)
        || paramNorm.lastStep()
            < Math.max(rowsMargin.lastStep(), summaryMargin.lastStep()) - c.staleSteps()) {
      return true;
    }
    return paramNorm.slope() > 0;
  }

  private String summary(Severity sev, Dtype dt, MarginView mv) {
    String margin =
        mv == null
            ? ""
            : String.format(
                Locale.ROOT,
                "; label margin (%s) %.2f nats, %.2f below the %s limit %.2f, %s",
                mv.source(),
                mv.level(),
                mv.gap(),
                dt.wire(),
                dt.absorptionLimit(),
                etaText(mv));
    if (sev == Severity.CRITICAL) {
      return String.format(
          Locale.ROOT,
          "softmax collapse under way: %.0f%% of samples absorbed"
              + " (p(label) == 1.0 exactly in %s, zero loss and gradient)%s",
          100 * nz(absorbed),
          dt.wire(),
          margin);
    }
    if (warnRun > 0 && absorbed > 0) {
      return String.format(
          Locale.ROOT,
          "softmax absorption starting: %.2f%% of samples have"
              + " p(label) == 1.0 exactly in %s%s",
          100 * absorbed,
          dt.wire(),
          margin);
    }
    return "softmax collapse precursor: logits growing towards absorption" + margin;
  }

  private static String etaText(MarginView mv) {
    if (mv.gap() <= 0) {
      return "already past it";
    }
    return mv.slope() > 0 && Double.isFinite(mv.eta())
        ? String.format(
            Locale.ROOT, "rising %.4f/step, ETA ~%d steps", mv.slope(), Math.round(mv.eta()))
        : "not rising";
  }

  private Map<String, Object> evidence(
      TelemetryRecord r, Config c, Dtype dt, MarginView mv, String trigger) {
    Map<String, Object> ev = new LinkedHashMap<>();
    ev.put("trigger", trigger);
    ev.put("dtype", dt.wire());
    ev.put("limit_nats", round4(dt.absorptionLimit()));
    if (Double.isFinite(absorbed)) {
      ev.put("absorbed_frac", round4(absorbed));
      ev.put("absorbed_source", absorbedSource == SRC_ROWS ? "sampled_rows" : "summary");
      ev.put("absorbed_consecutive", warnRun);
    }
    ev.put("absorbed_warn", c.absorbedWarn());
    ev.put("absorbed_critical", c.absorbedCritical());
    if (mv != null) {
      ev.put("margin_source", mv.source());
      ev.put("margin", round4(mv.level()));
      ev.put("margin_slope_per_step", mv.slope());
      ev.put("margin_gap_nats", round4(mv.gap()));
      if (Double.isFinite(mv.eta())) {
        ev.put("eta_steps", Math.round(mv.eta()));
      }
      ev.put(
          "near_nats",
          round4(
              nearFor(
                  mv.source().equals("margin_mean") ? c.summaryNearNats() : c.rowsNearNats(), dt)));
      ev.put(
          "horizon_steps",
          mv.source().equals("margin_mean") ? c.summaryHorizonSteps() : c.rowsHorizonSteps());
    }
    if (trusted(paramNorm, c)) {
      ev.put("param_norm", round4(paramNorm.level()));
      ev.put("param_norm_slope_per_step", paramNorm.slope());
    }
    putIfFinite(ev, "grad_weight_cos", r.metrics().get(MetricNames.GRAD_WEIGHT_COS));
    putIfFinite(ev, "logits_max_abs", r.metrics().get(MetricNames.LOGITS_MAX_ABS));
    return ev;
  }

  private static void putIfFinite(Map<String, Object> ev, String k, double v) {
    if (Double.isFinite(v)) {
      ev.put(k, v);
    }
  }

  private static double round4(double v) {
    return Double.isFinite(v) ? Math.round(v * 1e4) / 1e4 : v;
  }

  private static double nz(double v) {
    return Double.isFinite(v) ? v : 0.0;
  }

  @Override
  public void onRunEnd(TelemetryRecord r, RunContext ctx, AlertSink out) {
    // A collapse at the end of a run is still a collapse: leave it firing for the report,
    // the run's state is dropped anyway. Nothing to resolve here.
  }

  @Override
  public void writeState(DataOutput out) throws IOException {
    latch.write(out);
    rowsMargin.write(out);
    summaryMargin.write(out);
    paramNorm.write(out);
    out.writeDouble(absorbed);
    out.writeByte(absorbedSource);
    out.writeInt(warnRun);
    out.writeInt(criticalRun);
    out.writeLong(clearSince);
    out.writeBoolean(softmaxSeen);
    out.writeBoolean(noSoftmax);
    out.writeDouble(lossEwma);
    out.writeDouble(lossMin);
    out.writeInt(lossCount);
    out.writeLong(lastNonFinite);
  }

  @Override
  public void readState(DataInput in, int version) throws IOException {
    latch.read(in);
    rowsMargin.read(in);
    summaryMargin.read(in);
    paramNorm.read(in);
    absorbed = in.readDouble();
    absorbedSource = in.readByte();
    warnRun = in.readInt();
    criticalRun = in.readInt();
    clearSince = in.readLong();
    softmaxSeen = in.readBoolean();
    noSoftmax = in.readBoolean();
    lossEwma = in.readDouble();
    lossMin = in.readDouble();
    lossCount = in.readInt();
    lastNonFinite = in.readLong();
  }
}
