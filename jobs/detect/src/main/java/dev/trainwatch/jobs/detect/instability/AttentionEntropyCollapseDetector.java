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

/**
 * Attention-entropy collapse (Zhai et al. 2023): the mean attention entropy of some head ({@code
 * attn/entropy_min}, nats) falls to ~0, i.e. every query puts all its mass on one key; the softmax
 * gradient vanishes and training destabilises. A precursor: warning.
 *
 * <p>Why so low a threshold: healthy heads that attend to the previous token legitimately reach
 * ~0.015 nats, so only a further order of magnitude (1e-3 nats: the top key holds more than 99.99%
 * of the mass on average) separates collapse from specialisation.
 */
public final class AttentionEntropyCollapseDetector extends LatchedDetector {

  public static final String NAME = "attention_entropy_collapse";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS =
      new SettingsDef("instability.attention_entropy_collapse.");

  public static final Setting<Double> WARN =
      SETTINGS.number(
          "warn",
          1e-3,
          Setting.above(0),
          "warning when `attn/entropy_min` (nats) stays below this: some head attends one-hot (healthy previous-token heads sit near 0.015)");
  public static final Setting<Double> RESOLVE =
      SETTINGS.number(
          "resolve", 1e-2, Setting.above(0), "resolves once the entropy is back above this");
  public static final Setting<Integer> SUSTAIN =
      SETTINGS.integer(
          "sustain",
          10,
          Setting.atLeast(1),
          "consecutive records below `warn` (or above `resolve`) needed");
  static final String METRIC = MetricNames.ATTN_ENTROPY_MIN;

  /**
   * @param warn entropy (nats) below which the warning fires (1e-3; healthy runs here bottom out at
   *     0.015, collapsing ones fall below 1e-3 80-190 steps before divergence; 5e-3 would give
   *     245-285 steps at 3x instead of 15x margin)
   * @param resolve entropy above which it resolves (1e-2, hysteresis)
   * @param sustain consecutive records below {@code warn} before firing (10)
   */
  public record Config(double warn, double resolve, int sustain) {
    public static Config from(Settings s) {
      return new Config(s.get(WARN), s.get(RESOLVE), s.get(SUSTAIN));
    }
  }

  private final Hysteresis hysteresis = new Hysteresis();
  private double startEntropy = Double.NaN;

  public AttentionEntropyCollapseDetector() {
    super(Family.INSTABILITY, NAME);
  }

  @Override
  protected Verdict judge(TelemetryRecord r, RunContext ctx) {
    double e = r.metrics().get(METRIC);
    if (!Double.isFinite(e)) {
      return Verdict.HOLD;
    }
    if (Double.isNaN(startEntropy)) {
      startEntropy = e;
    }
    Config c = config(ctx, Config.class, Config::from);
    if (!firing()) {
      if (!hysteresis.fires(e < c.warn(), c.sustain())) {
        return Verdict.HOLD;
      }
      return Verdict.warning(
          Fmt.fmt(
              "attention entropy collapsed to %.2g nats (< %.2g): a head attends one-hot",
              e, c.warn()),
          Remedies.withRollback(Remedies.ATTENTION, ctx),
          Evidence.of()
              .num("entropy_min", e)
              .num("initial_entropy", startEntropy)
              .num("threshold", c.warn())
              .num("attn_max_logit", r.metrics().get(AttentionLogitGrowthDetector.GLOBAL))
              .num("lr", ctx.lr()));
    }
    if (!hysteresis.resolves(e > c.resolve(), c.sustain())) {
      return Verdict.HOLD;
    }
    return Verdict.resolve(
        "attention entropy recovered above " + c.resolve(),
        Evidence.of().num("entropy_min", e).num("resolve_above", c.resolve()));
  }

  @Override
  protected void writeRuleState(DataOutput out) throws IOException {
    hysteresis.write(out);
    out.writeDouble(startEntropy);
  }

  @Override
  protected void readRuleState(DataInput in, int version) throws IOException {
    hysteresis.read(in);
    startEntropy = in.readDouble();
  }
}
