package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.Evidence;
import dev.trainwatch.jobs.detect.Fmt;
import dev.trainwatch.jobs.detect.Hysteresis;
import dev.trainwatch.jobs.detect.LatchedDetector;
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
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Divergence from the loss alone (runs without attention metrics need it): a warning when the
 * smoothed loss climbs above the healthy band over its running minimum, critical once it sits well
 * above it for a sustained stretch, i.e. the run is un-learning. With the rollback target.
 *
 * <p>Two conditions, both scale-free: a ratio over the best smoothed loss (1.5x, the usual
 * definition) and a share of the run's progress given back (15%). The second keeps runs whose loss
 * is ~0 quiet: there a tiny absolute wobble is a huge ratio but no lost progress. Task switches and
 * LR restarts start a new baseline (the loss legitimately jumps there).
 */
public final class DivergenceDetector extends LatchedDetector
    implements MetricsReporter, LrPhase.Reader {

  public static final String NAME = "divergence";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS = new SettingsDef("instability.divergence.");

  public static final Setting<Double> RATIO =
      SETTINGS.number(
          "ratio",
          1.5,
          Setting.above(0),
          "critical when the smoothed loss (EWMA, span 20) is at least this multiple of its running minimum...");
  public static final Setting<Double> GIVEN_BACK =
      SETTINGS.number(
          "given_back",
          0.15,
          Setting.between(0, 1),
          "...and has given back at least this share of the run's progress (peak - best loss)...");
  public static final Setting<Integer> SUSTAIN =
      SETTINGS.integer("sustain", 20, Setting.atLeast(1), "...for this many consecutive records");
  public static final Setting<Integer> MIN_STEPS =
      SETTINGS.integer(
          "min_steps", 100, Setting.atLeast(0), "records before the running minimum is trusted");
  public static final Setting<Integer> SETTLE =
      SETTINGS.integer(
          "settle",
          50,
          Setting.atLeast(0),
          "steps after an LR restart or task switch before a new minimum is trusted");
  public static final Setting<Double> RESOLVE_RATIO =
      SETTINGS.number(
          "resolve_ratio",
          1.2,
          Setting.above(0),
          "resolves after `sustain` records with the ratio back below this");
  public static final Setting<Double> WARN_RATIO =
      SETTINGS.number(
          "warn_ratio",
          1.3,
          Setting.above(0),
          "warning (precursor, from the loss alone) when the smoothed loss is at least this multiple of its running minimum... (the labels call a run healthy only while its 20-step mean stays below 1.25x its running minimum; the public healthy runs peak at 1.07; on the public divergences this warns 85-137 steps before onset, and no run false-alarms even at 1.1)");
  public static final Setting<Double> WARN_GIVEN_BACK =
      SETTINGS.number(
          "warn_given_back",
          0.10,
          Setting.between(0, 1),
          "...and has given back at least this share of the progress...");
  public static final Setting<Integer> WARN_SUSTAIN =
      SETTINGS.integer(
          "warn_sustain",
          10,
          Setting.atLeast(1),
          "...for this many consecutive records; escalates to critical under the rule above");
  public static final Setting<Double> NOISE_K =
      SETTINGS.number(
          "noise_k",
          6.0,
          Setting.atLeast(0),
          "the run's own healthy band: `warn_ratio`, `ratio` and `resolve_ratio` rise to at least exp(`noise_k` x the sd of the smoothed log-loss) (scaled alike), with the per-step noise of log-loss from its mean absolute successive difference over ~100 records (slow trends cancel; frozen while the loss is judged to be rising). The running minimum of an EWMA sits ~2.5 sd below its mean and healthy excursions reach ~2.5 sd above, so batch-2 or label-noise training (log-loss noise 0.8: band 2.9x) is judged against its own band, clean runs (noise 0.03: 1.04x) keep the fixed ratios");

  /**
   * @param ratio smoothed loss / its running minimum that counts as diverged (1.5; healthy runs
   *     here peak at 1.07 outside restarts and task switches)
   * @param givenBack share of the progress (initial - best loss) lost again (0.15; the only
   *     healthy-labelled loss bump with ratio above 1.5, a softmax-collapse run, gave back 0.08)
   * @param sustain consecutive records both must hold (20)
   * @param minSteps steps before the running minimum is trusted (100)
   * @param settle steps after a restart or task switch before a new minimum is trusted (50)
   * @param resolveRatio ratio below which the alert resolves after {@code sustain} records (1.2)
   * @param warnRatio smoothed loss / running minimum that raises the precursor warning (1.3: the
   *     public labels call a run healthy only while its 20-step mean stays below 1.25x its running
   *     minimum, so 1.3 sits above every healthy run by definition, with margin for the EWMA/mean
   *     difference; the public healthy runs peak at 1.07)
   * @param warnGivenBack share of the progress lost for the warning (0.10)
   * @param warnSustain consecutive records the warning conditions must hold (10)
   * @param noiseK both ratios rise to at least exp(noiseK x the sd of the smoothed log-loss), the
   *     run's own healthy band (6: the running minimum of an EWMA sits ~2.5 sd below its mean and
   *     healthy excursions reach ~2.5 sd above; batch-2 and label-noise training have a loss band
   *     several times wider than the public runs')
   */
  public record Config(
      double ratio,
      double givenBack,
      int sustain,
      int minSteps,
      int settle,
      double resolveRatio,
      double warnRatio,
      double warnGivenBack,
      int warnSustain,
      double noiseK) {
    public static Config from(Settings s) {
      return new Config(
          s.get(RATIO),
          s.get(GIVEN_BACK),
          s.get(SUSTAIN),
          s.get(MIN_STEPS),
          s.get(SETTLE),
          s.get(RESOLVE_RATIO),
          s.get(WARN_RATIO),
          s.get(WARN_GIVEN_BACK),
          s.get(WARN_SUSTAIN),
          s.get(NOISE_K));
    }
  }

  private LrPhase phase = new LrPhase(); // the run's, once hosted (readPhaseOf)
  private final LossTrend trend = new LossTrend();

  /** The critical condition (held) and the release condition (calm). */
  private final Hysteresis critical = new Hysteresis();

  /** Counts records meeting the warning (precursor) conditions while not yet critical. */
  private final Hysteresis warning = new Hysteresis();

  public DivergenceDetector() {
    super(Family.INSTABILITY, NAME, 2, 1);
  }

  @Override
  protected Verdict judge(TelemetryRecord r, RunContext ctx) {
    if (phase.restarted()) {
      trend.rebaseline();
      critical.reset();
      warning.reset();
    }
    double loss = r.metrics().get(MetricNames.LOSS);
    if (!Double.isFinite(loss)) {
      return Verdict.HOLD;
    }
    Config c = config(ctx, Config.class, Config::from);
    long step = r.step();
    trend.add(loss, !phase.settling(step, c.minSteps(), c.settle()));
    if (!trend.ready()) {
      return Verdict.HOLD;
    }
    double ratio = trend.ratio();
    double back = trend.givenBack();
    double band = trend.noiseBand(c.noiseK());
    double warnAt = Math.max(c.warnRatio(), band);
    double criticalAt = Math.max(c.ratio(), band * c.ratio() / c.warnRatio());
    trend.freezeNoise(ratio >= warnAt || firing());
    if (severity() != Severity.CRITICAL) {
      boolean isCritical = critical.hold(ratio >= criticalAt && back >= c.givenBack(), c.sustain());
      boolean isWarning =
          warning.hold(ratio >= warnAt && back >= c.warnGivenBack(), c.warnSustain());
      if (isCritical) {
        critical.reset();
        return Verdict.critical(
            "loss diverged: " + rise(back),
            Remedies.withRollback(Remedies.DIVERGENCE, ctx),
            evidence(loss, c, warnAt, criticalAt));
      }
      if (isWarning && !firing()) {
        return Verdict.warning(
            "loss rising towards divergence: " + rise(back),
            Remedies.withRollback(Remedies.DIVERGENCE, ctx),
            evidence(loss, c, warnAt, criticalAt));
      }
      if (!firing()) {
        return Verdict.HOLD;
      }
    }
    double resolveAt = Math.max(c.resolveRatio(), band * c.resolveRatio() / c.warnRatio());
    if (!critical.release(ratio < resolveAt, c.sustain())) {
      return Verdict.HOLD;
    }
    critical.reset();
    warning.reset();
    return Verdict.resolve(
        "loss back within " + Fmt.times(resolveAt) + " of its best",
        evidence(loss, c, warnAt, criticalAt));
  }

  /**
   * "smoothed loss 3.2 is 1.68x its best 1.9 (45% of the progress lost)", no ratio against a best
   * near 0.
   */
  private String rise(double back) {
    return "smoothed loss "
        + Fmt.num(trend.ewma())
        + ", "
        + Fmt.against(trend.ewma(), trend.min(), MEANINGFUL_LOSS, "its best")
        + " ("
        + Fmt.pct(Math.min(1, back))
        + " of the progress lost)";
  }

  /** Below this loss (nats) a ratio to it says nothing a user can act on. */
  static final double MEANINGFUL_LOSS = 1e-3;

  private Evidence evidence(double loss, Config c, double warnAt, double criticalAt) {
    return Evidence.of()
        .num("loss", loss)
        .num("loss_ewma", trend.ewma())
        .num("baseline_min", trend.min())
        .num("baseline_start", trend.peak())
        .num("ratio", trend.ratio())
        .num("threshold_ratio", criticalAt)
        .num("warn_ratio", warnAt)
        .num("given_back", trend.givenBack())
        .num("threshold_given_back", c.givenBack());
  }

  @Override
  public void readPhaseOf(LrPhase shared) {
    phase = shared;
  }

  @Override
  protected void writeRuleState(DataOutput out) throws IOException {
    trend.write(out);
    critical.write(out);
    warning.write(out);
  }

  @Override
  protected void readRuleState(DataInput in, int version) throws IOException {
    if (version < 2) {
      phase.read(in); // the run's phase, kept in this frame before it was shared
    }
    trend.read(in);
    critical.read(in);
    warning.read(in);
  }

  /** The smoothed loss and the running minimum divergence is measured against. */
  @Override
  public void reportMetrics(TelemetryRecord r, RunContext ctx, MetricSink out) {
    if (Double.isFinite(trend.ewma())) {
      out.metric(NAME, "loss_ewma", trend.ewma());
    }
    if (Double.isFinite(trend.min())) {
      out.metric(NAME, "loss_running_min", trend.min());
    }
  }
}
