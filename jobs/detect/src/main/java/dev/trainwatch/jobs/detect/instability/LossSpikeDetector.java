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
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Loss spikes as events of their own: a transient jump of the loss (a corrupted or
 * out-of-distribution batch, a few steps, then back) fires a warning on its first step and resolves
 * as soon as the loss is back, with the spike's size and duration. Every spike is its own
 * fire/resolve pair, whatever else of the run is firing, so a bad batch during a divergence warning
 * is still reported as the event it is.
 *
 * <p>Robust statistics: the log-loss against the median and MAD of the last 64 non-spike values
 * (one spike cannot inflate the baseline that judges the next). A spike must be an outlier ({@code
 * z} robust sigmas: this is what scales with the run's own noise, so batch-2 or label-noise
 * training with a wide loss band stays quiet), a real jump ({@code ratio} x the median) and matter
 * in absolute terms ({@code min_rise} nats); below {@code min_baseline_loss} nothing is judged
 * (memorised regime, see {@link Config}). Quiet during warmup; LR restarts and task switches start
 * a new baseline. A "spike" that lasts {@code level_shift} records is a new level, not a spike: it
 * resolves as such and the divergence detectors judge it.
 */
public final class LossSpikeDetector extends LatchedDetector
    implements MetricsReporter, LrPhase.Reader {

  public static final String NAME = "loss_spike";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS = new SettingsDef("instability.loss_spike.");

  public static final Setting<Double> Z =
      SETTINGS.number(
          "z",
          6,
          Setting.above(0),
          "a spike starts when log-loss exceeds the median of the last 64 non-spike values by this many robust sigmas (1.4826 MAD; OLMo-core's 6 sd made robust; the public healthy runs reach 4.5 outside restarts, the public spike 23): this is what scales with the run's own noise, so batch-2 or label-noise training stays quiet...");
  public static final Setting<Double> RATIO =
      SETTINGS.number(
          "ratio",
          1.5,
          Setting.above(0),
          "...and the loss is at least this multiple of the median (bad-batch spikes are 1.5-2x the recent median; the labels call 1.5x a spike)...");
  public static final Setting<Double> MIN_RISE =
      SETTINGS.number(
          "min_rise",
          0.05,
          Setting.atLeast(0),
          "...and at least this many nats above it (bumps of healthy runs near 0 loss are a few hundredths)");
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
          3,
          Setting.atLeast(1),
          "each spike is its own event: it resolves once the loss has been back for this many consecutive records (the resolved event carries `spike_step`, `duration_steps`, `peak_loss`, `peak_ratio`)");
  public static final Setting<Double> BACK_RATIO =
      SETTINGS.number(
          "back_ratio",
          1.25,
          Setting.above(0),
          "back means below this multiple of the median, or within 3 robust sigmas of it");
  public static final Setting<Integer> LEVEL_SHIFT =
      SETTINGS.integer(
          "level_shift",
          32,
          Setting.atLeast(0),
          "a spike still high after this many records is a new level, not a spike: it resolves as `level_shift`, the baseline starts over and the divergence detectors judge it (half the 64-record window)");
  public static final Setting<Double> MIN_BASELINE_LOSS =
      SETTINGS.number(
          "min_baseline_loss",
          0.01,
          Setting.atLeast(0),
          "median loss (nats) below which spikes are not judged (memorised regime, see above)");

  /**
   * @param z robust sigmas of log-loss above the median (6, OLMo's 6-sigma rule made robust; the
   *     public healthy runs reach 4.5 outside restarts, the public spike 23)
   * @param ratio loss / median loss (1.5: bad-batch spikes are 1.5-2x the recent median, and the
   *     labels call a spike at 1.5x; the z test is what keeps noisy runs quiet)
   * @param minRise loss - median loss in nats (0.05; loss bumps of healthy runs near 0 loss are a
   *     few hundredths)
   * @param minSteps records before alerting (100)
   * @param settle steps after warmup, a restart or a task switch before alerting (50)
   * @param resolveAfter consecutive records back in the band before the spike resolves (3)
   * @param backRatio back in the band: loss below this multiple of the median, or within 3 robust
   *     sigmas of it (1.25)
   * @param levelShift records a spike may last before it counts as a new level (32, half the
   *     baseline window)
   * @param minBaselineLoss median loss (nats) below which the run counts as having memorised its
   *     training set and spikes are not judged (0.01): there Adam's normalised steps on vanishing
   *     gradients cause "slingshot" spikes (Thilak et al. 2022) that belong to the softmax-collapse
   *     regime, not to optimisation instability
   */
  public record Config(
      double z,
      double ratio,
      double minRise,
      int minSteps,
      int settle,
      int resolveAfter,
      double backRatio,
      int levelShift,
      double minBaselineLoss) {
    public static Config from(Settings s) {
      return new Config(
          s.get(Z),
          s.get(RATIO),
          s.get(MIN_RISE),
          s.get(MIN_STEPS),
          s.get(SETTLE),
          s.get(RESOLVE_AFTER),
          s.get(BACK_RATIO),
          Math.max(2, Math.min(RobustWindow.CAPACITY, s.get(LEVEL_SHIFT))),
          s.get(MIN_BASELINE_LOSS));
    }
  }

  /** Robust sigmas within which a loss counts as back in the band. */
  static final double BACK_Z = 3;

  private LrPhase phase = new LrPhase(); // the run's, once hosted (readPhaseOf)
  private final RobustWindow window = new RobustWindow();
  // the spike being reported
  private long firstStep = -1;
  private long lastSpikeStep = -1;
  private double peakLoss;
  private double base;
  private double sigma;
  private int spikeRecords;

  /** Records back in the band in a row while a spike is open (the release side). */
  private final Hysteresis back = new Hysteresis();

  public LossSpikeDetector() {
    // state format 2: a Hysteresis (held, calm) where format 1 had the count of records back alone
    super(Family.INSTABILITY, NAME, 3, 1);
  }

  @Override
  protected Verdict judge(TelemetryRecord r, RunContext ctx) {
    if (phase.restarted()) {
      window.clear();
    }
    double loss = r.metrics().get(MetricNames.LOSS);
    if (!Double.isFinite(loss) || loss <= 0) {
      return Verdict
          .HOLD; // a non-finite loss is the non_finite detector's alert; the spike stays open
    }
    Config c = config(ctx, Config.class, Config::from);
    double x = Math.log(loss);
    if (firing()) {
      return follow(r, c, x, loss);
    }
    if (phase.quiet(r.step(), c.minSteps(), c.settle())
        || window.size() < RobustWindow.CAPACITY / 2) {
      window.add(x);
      return Verdict.HOLD;
    }
    // Exact pre-filter: the median is >= the window minimum, so a loss that fails the ratio or
    // rise test against the minimum fails it against the median; skip the sort (most records).
    double floor = Math.exp(window.min());
    if (loss < c.ratio() * floor || loss - floor < c.minRise()) {
      window.add(x);
      return Verdict.HOLD;
    }
    double med = window.median();
    double sd = Math.max(window.sigma(med), 1e-6);
    double b = Math.exp(med);
    double z = (x - med) / sd;
    if (b >= c.minBaselineLoss() && z > c.z() && loss >= c.ratio() * b && loss - b >= c.minRise()) {
      firstStep = lastSpikeStep = r.step();
      peakLoss = loss;
      base = b;
      sigma = sd;
      spikeRecords = 1;
      back.reset();
      return Verdict.warning(
          Fmt.fmt(
              "loss spike at step %d: %s, %s (%.1f robust sigmas above the last %d steps)",
              r.step(), Fmt.num(loss), Fmt.against(loss, b, 0, "the median"), z, window.size()),
          Remedies.withRollback(Remedies.LOSS_SPIKE, ctx),
          Evidence.of()
              .text("trigger", "spike")
              .finite("loss", loss)
              .finite("baseline_median", b)
              .finite("ratio", loss / b)
              .finite("robust_z", z)
              .finite("threshold_z", c.z())
              .finite("threshold_ratio", c.ratio())
              .finite("lr", ctx.lr()));
    }
    window.add(x);
    return Verdict.HOLD;
  }

  /** While a spike is open: track its peak and length, resolve once the loss is back. */
  private Verdict follow(TelemetryRecord r, Config c, double x, double loss) {
    boolean isBack = loss <= c.backRatio() * base || (x - Math.log(base)) / sigma <= BACK_Z;
    if (!isBack) {
      back.unsettle();
      lastSpikeStep = r.step();
      peakLoss = Math.max(peakLoss, loss);
      if (++spikeRecords < c.levelShift()) {
        return Verdict.HOLD;
      }
      Verdict v =
          resolved(
              "level_shift",
              Fmt.fmt(
                  "the loss has stayed high for %d records since step %d:"
                      + " a new level, not a spike (the divergence detectors judge it)",
                  spikeRecords, firstStep));
      window.clear();
      return v;
    }
    window.add(x);
    if (!back.release(true, c.resolveAfter())) {
      return Verdict.HOLD;
    }
    return resolved(
        "back",
        Fmt.fmt(
            "loss back to %s after a spike of %d step(s) from step %d, peak %s (%s)",
            Fmt.num(loss),
            lastSpikeStep - firstStep + 1,
            firstStep,
            Fmt.num(peakLoss),
            Fmt.against(peakLoss, base, 0, "the median")));
  }

  /** The spike's resolution (how it ended and its shape); the spike is closed. */
  private Verdict resolved(String how, String summary) {
    Evidence ev =
        Evidence.of()
            .text("resolved_as", how)
            .count("spike_step", firstStep)
            .count("last_spike_step", lastSpikeStep)
            .count("duration_steps", lastSpikeStep - firstStep + 1)
            .finite("peak_loss", peakLoss)
            .finite("baseline_median", base)
            .finite("peak_ratio", peakLoss / base);
    firstStep = lastSpikeStep = -1;
    spikeRecords = 0;
    back.reset();
    return Verdict.resolve(summary, ev);
  }

  @Override
  public void readPhaseOf(LrPhase shared) {
    phase = shared;
  }

  @Override
  protected void writeRuleState(DataOutput out) throws IOException {
    window.write(out);
    out.writeLong(firstStep);
    out.writeLong(lastSpikeStep);
    out.writeDouble(peakLoss);
    out.writeDouble(base);
    out.writeDouble(sigma);
    out.writeInt(spikeRecords);
    back.write(out);
  }

  @Override
  protected void readRuleState(DataInput in, int version) throws IOException {
    if (version < 3) {
      phase.read(in); // the run's phase, kept in this frame before it was shared
    }
    window.read(in);
    firstStep = in.readLong();
    lastSpikeStep = in.readLong();
    peakLoss = in.readDouble();
    base = in.readDouble();
    sigma = in.readDouble();
    spikeRecords = in.readInt();
    back.read(in, version == 1);
  }

  /** The robust baseline: median loss of the recent normal window. */
  @Override
  public void reportMetrics(TelemetryRecord r, RunContext ctx, MetricSink out) {
    if (window.size() > 0) {
      out.metric(NAME, "loss_median", Math.exp(window.median()));
    }
  }
}
