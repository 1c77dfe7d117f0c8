package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.Evidence;
import dev.trainwatch.jobs.detect.Fmt;
import dev.trainwatch.jobs.detect.Hysteresis;
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
import java.util.Locale;

/**
 * Sharpness above the edge of stability (Cohen et al. 2021): gradient descent with step size lr is
 * stable on a quadratic only while lr * lambda_max <= 2. Uses the LR in force at the step of each
 * (sparse) {@code sharpness} sample. For adaptive optimizers (tag {@code optimizer} starting with
 * "adam") the preconditioned sharpness equilibrates near 38 / lr (Cohen et al. 2022), so their
 * limit is separate. Warning.
 */
public final class EdgeOfStabilityDetector extends LatchedDetector {

  public static final String NAME = "edge_of_stability";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS = new SettingsDef("instability.edge_of_stability.");

  public static final Setting<Double> LIMIT =
      SETTINGS.number(
          "limit",
          2.0,
          Setting.above(0),
          "warning when `lr * sharpness` (LR in force at the sharpness sample) exceeds this for (S)GD: the stability bound of gradient descent");
  public static final Setting<Double> ADAPTIVE_LIMIT =
      SETTINGS.number(
          "adaptive_limit",
          38.0,
          Setting.above(0),
          "the same limit for optimizers whose `optimizer` tag starts with `adam` (preconditioned sharpness equilibrates near 38/lr)");
  public static final Setting<Integer> SUSTAIN =
      SETTINGS.integer(
          "sustain",
          3,
          Setting.atLeast(1),
          "consecutive sharpness samples above (or back below) the limit needed");

  /**
   * @param limit lr * sharpness above which (S)GD is past the edge (2, the stability bound)
   * @param adaptiveLimit the same for Adam-family optimizers (38, their equilibrium for beta1 0.9)
   * @param sustain consecutive sharpness samples above the limit before firing (3: at the edge
   *     itself sharpness oscillates around the bound)
   */
  public record Config(double limit, double adaptiveLimit, int sustain) {
    public static Config from(Settings s) {
      return new Config(s.get(LIMIT), s.get(ADAPTIVE_LIMIT), s.get(SUSTAIN));
    }
  }

  private final Hysteresis hysteresis = new Hysteresis();
  private boolean adaptive;

  public EdgeOfStabilityDetector() {
    super(Family.INSTABILITY, NAME);
  }

  @Override
  protected Verdict judge(TelemetryRecord r, RunContext ctx) {
    String opt = r.tags().get("optimizer");
    if (opt != null) {
      adaptive = opt.toLowerCase(Locale.ROOT).startsWith("adam");
    }
    double sharp = r.metrics().get(MetricNames.SHARPNESS);
    double lr = ctx.lr();
    if (!Double.isFinite(sharp) || !Double.isFinite(lr) || lr <= 0) {
      return Verdict.HOLD;
    }
    Config c = config(ctx, Config.class, Config::from);
    double limit = adaptive ? c.adaptiveLimit() : c.limit();
    double x = lr * sharp;
    if (!firing()) {
      if (!hysteresis.fires(x > limit, c.sustain())) {
        return Verdict.HOLD;
      }
      return Verdict.warning(
          Fmt.fmt("past the edge of stability: lr * sharpness = %.3g > %.3g", x, limit),
          Remedies.withRollback(Remedies.EDGE, ctx),
          Evidence.of()
              .num("sharpness", sharp)
              .num("lr", lr)
              .num("lr_times_sharpness", x)
              .num("threshold", limit)
              .num("max_stable_lr", limit / sharp));
    }
    if (!hysteresis.resolves(x <= limit, c.sustain())) {
      return Verdict.HOLD;
    }
    return Verdict.resolve(
        "lr * sharpness back below " + limit,
        Evidence.of().num("lr_times_sharpness", x).num("threshold", limit));
  }

  @Override
  protected void writeRuleState(DataOutput out) throws IOException {
    hysteresis.write(out);
    out.writeBoolean(adaptive);
  }

  @Override
  protected void readRuleState(DataInput in, int version) throws IOException {
    hysteresis.read(in);
    adaptive = in.readBoolean();
  }
}
