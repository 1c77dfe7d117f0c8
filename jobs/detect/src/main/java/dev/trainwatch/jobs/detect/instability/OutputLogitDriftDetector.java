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
 * Output-logit divergence (PaLM; Wortsman et al. 2023): log Z ({@code logits/lse_mean}) drifts far
 * from 0 while the loss worsens. A precursor: warning; remedy z-loss.
 *
 * <p>Why the loss gate: a large |log Z| alone is also what confident classifiers and softmax
 * collapse look like (log Z reaches 36 in a healthy float64 run and -1000 after a float32 softmax
 * collapse, with the loss ~0 in both); that is the softmax_collapse family's business. Drift is an
 * instability only when the loss is losing ground at the same time.
 */
public final class OutputLogitDriftDetector extends LatchedDetector implements LrPhase.Reader {

  public static final String NAME = "output_logit_drift";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS = new SettingsDef("instability.output_logit_drift.");

  public static final Setting<Double> MAX_ABS_LSE =
      SETTINGS.number(
          "max_abs_lse",
          50,
          Setting.above(0),
          "`|logits/lse_mean|` (log Z, nats) beyond which the output logits count as drifted");
  public static final Setting<Double> LOSS_RATIO =
      SETTINGS.number(
          "loss_ratio",
          1.2,
          Setting.above(0),
          "...and the smoothed loss must be at least this multiple of its running minimum");
  public static final Setting<Double> GIVEN_BACK =
      SETTINGS.number(
          "given_back",
          0.15,
          Setting.between(0, 1),
          "...and have given back at least this share of the run's progress (peak - best loss); drift with the loss ~0 is softmax collapse, not instability");
  public static final Setting<Integer> SUSTAIN =
      SETTINGS.integer(
          "sustain",
          10,
          Setting.atLeast(1),
          "consecutive records all conditions must hold (and log Z be back in range to resolve)");
  public static final Setting<Integer> MIN_STEPS =
      SETTINGS.integer(
          "min_steps", 100, Setting.atLeast(0), "records before the loss baseline is trusted");
  public static final Setting<Integer> SETTLE =
      SETTINGS.integer(
          "settle",
          50,
          Setting.atLeast(0),
          "steps after a restart or task switch before the loss baseline is trusted again");
  static final String METRIC = MetricNames.LOGITS_LSE_MEAN;

  /**
   * @param maxAbsLse |log Z| in nats above which log Z counts as drifted (50; healthy runs here
   *     reach 36 with the loss at ~0)
   * @param lossRatio smoothed loss / its running minimum that counts as losing ground (1.2)
   * @param givenBack share of the progress lost that counts as losing ground (0.15)
   * @param sustain consecutive records all must hold before firing (10)
   * @param minSteps steps before the loss baseline is trusted (100)
   * @param settle steps after a restart or task switch before it is trusted again (50)
   */
  public record Config(
      double maxAbsLse, double lossRatio, double givenBack, int sustain, int minSteps, int settle) {
    public static Config from(Settings s) {
      return new Config(
          s.get(MAX_ABS_LSE),
          s.get(LOSS_RATIO),
          s.get(GIVEN_BACK),
          s.get(SUSTAIN),
          s.get(MIN_STEPS),
          s.get(SETTLE));
    }
  }

  private LrPhase phase = new LrPhase(); // the run's, once hosted (readPhaseOf)
  private final LossTrend trend = new LossTrend();
  private final Hysteresis hysteresis = new Hysteresis();

  public OutputLogitDriftDetector() {
    super(Family.INSTABILITY, NAME, 2, 1);
  }

  @Override
  protected Verdict judge(TelemetryRecord r, RunContext ctx) {
    if (phase.restarted()) {
      trend.rebaseline();
      hysteresis.reset();
    }
    Config c = config(ctx, Config.class, Config::from);
    double loss = r.metrics().get(MetricNames.LOSS);
    if (Double.isFinite(loss)) {
      trend.add(loss, !phase.settling(r.step(), c.minSteps(), c.settle()));
    }
    double lse = r.metrics().get(METRIC);
    if (!Double.isFinite(lse)) {
      return Verdict.HOLD;
    }
    boolean drifted = Math.abs(lse) > c.maxAbsLse();
    if (!firing()) {
      boolean losing =
          trend.ready() && trend.ratio() >= c.lossRatio() && trend.givenBack() >= c.givenBack();
      if (!hysteresis.fires(drifted && losing, c.sustain())) {
        return Verdict.HOLD;
      }
      return Verdict.warning(
          Fmt.fmt(
              "output log Z drifted to %s (|log Z| > %s) while the smoothed loss rose from its best %s to %s (%s of the progress lost)",
              Fmt.num(lse),
              Fmt.num(c.maxAbsLse()),
              Fmt.num(trend.min()),
              Fmt.num(trend.ewma()),
              Fmt.pct(Math.min(1, trend.givenBack()))),
          Remedies.withRollback(Remedies.OUTPUT_LOGITS, ctx),
          Evidence.of()
              .num("lse_mean", lse)
              .num("threshold", c.maxAbsLse())
              .num("loss_ewma", trend.ewma())
              .num("baseline_min", trend.min())
              .num("loss_ratio", trend.ratio())
              .num("given_back", trend.givenBack()));
    }
    if (!hysteresis.resolves(!drifted, c.sustain())) {
      return Verdict.HOLD;
    }
    return Verdict.resolve(
        "log Z back within " + c.maxAbsLse() + " of 0",
        Evidence.of().num("lse_mean", lse).num("threshold", c.maxAbsLse()));
  }

  @Override
  public void readPhaseOf(LrPhase shared) {
    phase = shared;
  }

  @Override
  protected void writeRuleState(DataOutput out) throws IOException {
    trend.write(out);
    hysteresis.write(out);
  }

  @Override
  protected void readRuleState(DataInput in, int version) throws IOException {
    if (version < 2) {
      phase.read(in); // the run's phase, kept in this frame before it was shared
    }
    trend.read(in);
    hysteresis.read(in);
  }
}
