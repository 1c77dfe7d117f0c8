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
 * Mixed-precision {@code loss_scale} collapsing: a dynamic scaler halves the scale on every
 * overflow and doubles it only after a long clean stretch, so a scale that fell by many halvings
 * from its running max, or below {@code min_scale}, means gradients overflow step after step.
 * Warning; resolves when the scale recovers to within {@code max_halvings} / 2 halvings of its max.
 */
public final class LossScaleCollapseDetector implements Detector {

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

  private final AlertLatch latch = new AlertLatch(Family.INSTABILITY, NAME);
  private double maxScale = Double.NaN;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void observe(TelemetryRecord r, RunContext ctx, AlertSink out) {
    double s = r.metrics().get(MetricNames.LOSS_SCALE);
    if (!Double.isFinite(s) || s <= 0) {
      return;
    }
    maxScale = Double.isNaN(maxScale) ? s : Math.max(maxScale, s);
    Config c = ctx.config(Config.class, Config::from);
    double halvings = Math.log(maxScale / s) / Math.log(2);
    if (!latch.isFiring()) {
      if (halvings >= c.maxHalvings() || s < c.minScale()) {
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("loss_scale", s);
        ev.put("running_max", maxScale);
        ev.put("halvings", halvings);
        ev.put("threshold_halvings", c.maxHalvings());
        ev.put("min_scale", c.minScale());
        latch.raise(
            Severity.WARNING,
            ctx,
            r.step(),
            r.timeMs(),
            dev.trainwatch.jobs.detect.Fmt.fmt(
                "loss scale collapsed to %.3g (%.0f halvings below its max %.3g)",
                s, halvings, maxScale),
            Remedies.withRollback(Remedies.LOSS_SCALE, ctx),
            ev,
            out);
      }
      return;
    }
    if (halvings <= c.maxHalvings() / 2.0 && s >= c.minScale()) {
      Map<String, Object> ev = new LinkedHashMap<>();
      ev.put("loss_scale", s);
      ev.put("running_max", maxScale);
      latch.resolve(ctx, r.step(), r.timeMs(), "loss scale recovered", ev, out);
    }
  }

  @Override
  public void writeState(DataOutput out) throws IOException {
    latch.write(out);
    out.writeDouble(maxScale);
  }

  @Override
  public void readState(DataInput in) throws IOException {
    latch.read(in);
    maxScale = in.readDouble();
  }
}
