package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.AlertLatch;
import dev.trainwatch.jobs.detect.AlertSink;
import dev.trainwatch.jobs.detect.Detector;
import dev.trainwatch.jobs.detect.RunContext;
import dev.trainwatch.jobs.detect.Setting;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.jobs.detect.SettingsDef;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Output-logit divergence (PaLM; Wortsman et al. 2023): log Z ({@code logits/lse_mean}) drifts far
 * from 0 while the loss worsens. A precursor: warning; remedy z-loss.
 *
 * <p>Why the loss gate: a large |log Z| alone is also what confident classifiers and softmax
 * collapse look like (log Z reaches 36 in a healthy float64 run and -1000 after a float32 softmax
 * collapse, with the loss ~0 in both); that is the softmax_collapse family's business. Drift is an
 * instability only when the loss is losing ground at the same time.
 */
public final class OutputLogitDriftDetector implements Detector {

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

  private final AlertLatch latch = new AlertLatch(Family.INSTABILITY, NAME);
  private final LrPhase phase = new LrPhase();
  private final LossTrend trend = new LossTrend();
  private final Sustain sustain = new Sustain();

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void observe(TelemetryRecord r, RunContext ctx, AlertSink out) {
    if (phase.update(r)) {
      trend.rebaseline();
      sustain.reset();
    }
    Config c = ctx.config(Config.class, Config::from);
    double loss = r.metrics().get(MetricNames.LOSS);
    if (Double.isFinite(loss)) {
      trend.add(loss, !phase.settling(r.step(), c.minSteps(), c.settle()));
    }
    double lse = r.metrics().get(METRIC);
    if (!Double.isFinite(lse)) {
      return;
    }
    boolean drifted = Math.abs(lse) > c.maxAbsLse();
    if (!latch.isFiring()) {
      boolean losing =
          trend.ready() && trend.ratio() >= c.lossRatio() && trend.givenBack() >= c.givenBack();
      if (sustain.hold(drifted && losing, c.sustain())) {
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("lse_mean", lse);
        ev.put("threshold", c.maxAbsLse());
        ev.put("loss_ewma", trend.ewma());
        ev.put("baseline_min", trend.min());
        ev.put("loss_ratio", trend.ratio());
        ev.put("given_back", trend.givenBack());
        latch.raise(
            Severity.WARNING,
            ctx,
            r.step(),
            r.timeMs(),
            dev.trainwatch.jobs.detect.Fmt.fmt(
                "output log Z drifted to %s (|log Z| > %s) while the smoothed loss rose from its best %s to %s (%s of the progress lost)",
                dev.trainwatch.jobs.detect.Fmt.num(lse),
                dev.trainwatch.jobs.detect.Fmt.num(c.maxAbsLse()),
                dev.trainwatch.jobs.detect.Fmt.num(trend.min()),
                dev.trainwatch.jobs.detect.Fmt.num(trend.ewma()),
                dev.trainwatch.jobs.detect.Fmt.pct(Math.min(1, trend.givenBack()))),
            Remedies.withRollback(Remedies.OUTPUT_LOGITS, ctx),
            ev,
            out);
        sustain.reset();
      }
      return;
    }
    if (sustain.release(!drifted, c.sustain())) {
      Map<String, Object> ev = new LinkedHashMap<>();
      ev.put("lse_mean", lse);
      ev.put("threshold", c.maxAbsLse());
      latch.resolve(
          ctx, r.step(), r.timeMs(), "log Z back within " + c.maxAbsLse() + " of 0", ev, out);
      sustain.reset();
    }
  }

  @Override
  public void writeState(DataOutput out) throws IOException {
    latch.write(out);
    phase.write(out);
    trend.write(out);
    sustain.write(out);
  }

  @Override
  public void readState(DataInput in) throws IOException {
    latch.read(in);
    phase.read(in);
    trend.read(in);
    sustain.read(in);
  }
}
