package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.AlertLatch;
import dev.trainwatch.jobs.detect.AlertSink;
import dev.trainwatch.jobs.detect.Detector;
import dev.trainwatch.jobs.detect.RunContext;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Loss spikes with robust statistics: the log-loss against the median and MAD of the last 64
 * non-spike values (so one spike does not inflate the baseline that judges the next one).
 * A spike must be an outlier ({@code z} robust sigmas), a real jump ({@code ratio} x the
 * median) and matter in absolute terms ({@code min_rise} nats), so runs whose loss sits near
 * 0, where a 10x wobble is 0.01 nats, stay quiet; below {@code min_baseline_loss} nothing is
 * judged at all (memorised regime, see {@link Config}). Quiet during warmup; LR restarts and task
 * switches start a new baseline. Warning.
 */
public final class LossSpikeDetector implements Detector, dev.trainwatch.jobs.detect.MetricsReporter {

  public static final String NAME = "loss_spike";

  /**
   * @param z robust sigmas of log-loss above the median (6, OLMo's 6-sigma rule made robust;
   *     healthy runs reach 4.3)
   * @param ratio loss / median loss (2, KillLossSpike's 2x)
   * @param minRise loss - median loss in nats (0.1; loss bumps of healthy runs near 0 loss
   *     are a few hundredths)
   * @param minSteps records before alerting (100)
   * @param settle steps after warmup, a restart or a task switch before alerting (50)
   * @param resolveAfter spike-free records before the warning resolves (50)
   * @param minBaselineLoss median loss (nats) below which the run counts as having memorised
   *     its training set and spikes are not judged (0.01): there Adam's normalised steps on
   *     vanishing gradients cause "slingshot" spikes (Thilak et al. 2022) that belong to the
   *     softmax-collapse regime, not to optimisation instability
   */
  public record Config(double z, double ratio, double minRise, int minSteps, int settle,
      int resolveAfter, double minBaselineLoss) {
    public static Config from(Settings s) {
      return new Config(
          s.getDouble("instability.loss_spike.z", 6),
          s.getDouble("instability.loss_spike.ratio", 2),
          s.getDouble("instability.loss_spike.min_rise", 0.1),
          s.getInt("instability.loss_spike.min_steps", 100),
          s.getInt("instability.loss_spike.settle", 50),
          s.getInt("instability.loss_spike.resolve_after", 50),
          s.getDouble("instability.loss_spike.min_baseline_loss", 0.01));
    }
  }

  /** This many spikes in a row are a new level, not a spike: re-baseline (divergence judges it). */
  static final int LEVEL_SHIFT = RobustWindow.CAPACITY / 2;

  private final AlertLatch latch = new AlertLatch(Family.INSTABILITY, NAME);
  private final LrPhase phase = new LrPhase();
  private final RobustWindow window = new RobustWindow();
  private int calm;
  private int streak;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void observe(TelemetryRecord r, RunContext ctx, AlertSink out) {
    if (phase.update(r)) {
      window.clear();
    }
    double loss = r.metrics().get("loss");
    if (!Double.isFinite(loss) || loss <= 0) {
      return;
    }
    Config c = ctx.config(Config.class, Config::from);
    double x = Math.log(loss);
    if (phase.quiet(r.step(), c.minSteps(), c.settle()) || window.size() < RobustWindow.CAPACITY / 2) {
      window.add(x);
      return;
    }
    // Exact pre-filter: the median is >= the window minimum, so a loss that fails the ratio or
    // rise test against the minimum fails it against the median; skip the sort (most records).
    double floor = Math.exp(window.min());
    if (loss < c.ratio() * floor || loss - floor < c.minRise()) {
      calm(r, ctx, c, x, loss, floor, out);
      return;
    }
    double med = window.median();
    double sigma = Math.max(window.sigma(med), 1e-6);
    double base = Math.exp(med);
    double z = (x - med) / sigma;
    if (base >= c.minBaselineLoss() && z > c.z() && loss >= c.ratio() * base && loss - base >= c.minRise()) {
      calm = 0;
      if (++streak >= LEVEL_SHIFT) {
        window.clear();
        streak = 0;
      }
      if (!latch.isFiring()) {
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("loss", loss);
        ev.put("baseline_median", base);
        ev.put("robust_z", z);
        ev.put("ratio", loss / base);
        ev.put("threshold_z", c.z());
        ev.put("threshold_ratio", c.ratio());
        ev.put("lr", ctx.lr());
        latch.raise(Severity.WARNING, ctx, r.step(), r.timeMs(),
            String.format("loss spike %.4g: %.1fx the median %.4g (%.1f robust sigmas)", loss, loss / base, base, z),
            Remedies.withRollback(Remedies.LOSS_SPIKE, ctx), ev, out);
      }
      return;
    }
    calm(r, ctx, c, x, loss, base, out);
  }

  /** A non-spike record: it joins the baseline and counts towards resolving. */
  private void calm(TelemetryRecord r, RunContext ctx, Config c, double x, double loss,
      double base, AlertSink out) {
    streak = 0;
    window.add(x);
    if (latch.isFiring() && ++calm >= c.resolveAfter()) {
      Map<String, Object> ev = new LinkedHashMap<>();
      ev.put("loss", loss);
      ev.put("baseline", base);
      latch.resolve(ctx, r.step(), r.timeMs(), "no loss spike for " + calm + " records", ev, out);
      calm = 0;
    }
  }

  @Override
  public void writeState(DataOutput out) throws IOException {
    latch.write(out);
    phase.write(out);
    window.write(out);
    out.writeInt(calm);
    out.writeInt(streak);
  }

  @Override
  public void readState(DataInput in) throws IOException {
    latch.read(in);
    phase.read(in);
    window.read(in);
    calm = in.readInt();
    streak = in.readInt();
  }

  /** The robust baseline: median loss of the recent normal window (its log-space sigma). */
  @Override
  public void reportMetrics(TelemetryRecord r, RunContext ctx, dev.trainwatch.jobs.detect.MetricSink out) {
    if (window.size() > 0) {
      double med = window.median();
      out.metric(NAME, "loss_median", Math.exp(med));
    }
  }
}
