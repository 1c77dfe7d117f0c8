package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.Evidence;
import dev.trainwatch.jobs.detect.Fmt;
import dev.trainwatch.jobs.detect.LatchedDetector;
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
 * Mixed-precision {@code loss_scale} collapsing: a dynamic scaler halves the scale on every
 * overflow and doubles it only after a long clean stretch, so a scale that fell by many halvings
 * from its running max, or below {@code min_scale}, means gradients overflow step after step.
 * Warning; resolves when the scale recovers to within {@code max_halvings} / 2 halvings of its max.
 */
public final class LossScaleCollapseDetector extends LatchedDetector {

  public static final String NAME = "loss_scale_collapse";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS = new SettingsDef("instability.loss_scale_collapse.");

  public static final Setting<Integer> MAX_HALVINGS =
      SETTINGS.integer(
          "max_halvings",
          10,
          Setting.atLeast(1),
          "warning when `loss_scale` fell this many halvings (1024x) below its running max; resolves within half as many");
  public static final Setting<Double> MIN_SCALE =
      SETTINGS.number(
          "min_scale",
          1.0,
          Setting.atLeast(0),
          "warning when `loss_scale` falls below this absolute value");

  /**
   * @param maxHalvings halvings below the running max that count as collapse (10, a factor 1024: an
   *     occasional overflow costs one or two)
   * @param minScale absolute scale below which fp16 gradients underflow (1.0)
   */
  public record Config(int maxHalvings, double minScale) {
    public static Config from(Settings s) {
      return new Config(s.get(MAX_HALVINGS), s.get(MIN_SCALE));
    }
  }

  private double maxScale = Double.NaN;

  public LossScaleCollapseDetector() {
    super(Family.INSTABILITY, NAME);
  }

  @Override
  protected Verdict judge(TelemetryRecord r, RunContext ctx) {
    double s = r.metrics().get(MetricNames.LOSS_SCALE);
    if (!Double.isFinite(s) || s <= 0) {
      return Verdict.HOLD;
    }
    maxScale = Double.isNaN(maxScale) ? s : Math.max(maxScale, s);
    Config c = config(ctx, Config.class, Config::from);
    double halvings = Math.log(maxScale / s) / Math.log(2);
    if (!firing()) {
      if (!(halvings >= c.maxHalvings() || s < c.minScale())) {
        return Verdict.HOLD;
      }
      return Verdict.warning(
          Fmt.fmt(
              "loss scale collapsed to %.3g (%.0f halvings below its max %.3g)",
              s, halvings, maxScale),
          Remedies.withRollback(Remedies.LOSS_SCALE, ctx),
          Evidence.of()
              .num("loss_scale", s)
              .num("running_max", maxScale)
              .num("halvings", halvings)
              .count("threshold_halvings", c.maxHalvings())
              .num("min_scale", c.minScale()));
    }
    if (!(halvings <= c.maxHalvings() / 2.0 && s >= c.minScale())) {
      return Verdict.HOLD;
    }
    return Verdict.resolve(
        "loss scale recovered", Evidence.of().num("loss_scale", s).num("running_max", maxScale));
  }

  @Override
  protected void writeRuleState(DataOutput out) throws IOException {
    out.writeDouble(maxScale);
  }

  @Override
  protected void readRuleState(DataInput in, int version) throws IOException {
    maxScale = in.readDouble();
  }
}
