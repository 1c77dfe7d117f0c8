package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.Evidence;
import dev.trainwatch.jobs.detect.Fmt;
import dev.trainwatch.jobs.detect.Hysteresis;
import dev.trainwatch.jobs.detect.LatchedDetector;
import dev.trainwatch.jobs.detect.Layers;
import dev.trainwatch.jobs.detect.RunContext;
import dev.trainwatch.jobs.detect.Setting;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.jobs.detect.SettingsDef;
import dev.trainwatch.jobs.detect.Verdict;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.List;

/**
 * Attention-logit growth (Dehghani et al. 2023, Wortsman et al. 2023): the largest pre-softmax
 * attention logit grows without bound, attention goes one-hot and the loss diverges hundreds of
 * steps later. Reads {@code attn/max_logit}, else the largest {@code attn/max_logit/<layer>}; the
 * evidence names the worst layer. A precursor: warning.
 */
public final class AttentionLogitGrowthDetector extends LatchedDetector {

  public static final String NAME = "attention_logit_growth";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS = new SettingsDef("instability.attention_logit_growth.");

  public static final Setting<Double> WARN =
      SETTINGS.number(
          "warn",
          500,
          Setting.above(0),
          "warning when `attn/max_logit` (else the largest `attn/max_logit/<layer>`) exceeds this; healthy runs stay below ~35, unstable ones pass 1000 hundreds of steps before the loss diverges");
  public static final Setting<Double> RESOLVE =
      SETTINGS.number(
          "resolve",
          100,
          Setting.above(0),
          "resolves once the max attention logit is back below this (hysteresis)");
  public static final Setting<Integer> SUSTAIN =
      SETTINGS.integer(
          "sustain",
          3,
          Setting.atLeast(1),
          "consecutive records above `warn` (or below `resolve`) needed to fire (or resolve)");
  static final String GLOBAL = MetricNames.ATTN_MAX_LOGIT;
  static final String PER_LAYER = MetricNames.ATTN_MAX_LOGIT_LAYER;

  /**
   * @param warn max attention logit that raises the warning (500: healthy runs, qk-layernorm twins
   *     included, stay below ~35; unstable ones pass 1000 ~350 steps before the loss diverges; Kimi
   *     K2's QK-Clip caps logits at 100, so 500 is far outside healthy training)
   * @param resolve level below which the warning resolves (100, hysteresis)
   * @param sustain consecutive records above {@code warn} before firing (3, ignores a lone outlier)
   */
  public record Config(double warn, double resolve, int sustain) {
    public static Config from(Settings s) {
      return new Config(s.get(WARN), s.get(RESOLVE), s.get(SUSTAIN));
    }
  }

  private final Hysteresis hysteresis = new Hysteresis();
  private double peak;

  public AttentionLogitGrowthDetector() {
    super(Family.INSTABILITY, NAME);
  }

  @Override
  protected Verdict judge(TelemetryRecord r, RunContext ctx) {
    Metrics m = r.metrics();
    double v = m.get(GLOBAL);
    int layer = -1;
    if (!Double.isFinite(v)) {
      layer = worstLayer(m);
      v = layer < 0 ? Double.NaN : m.value(layer);
    }
    if (!Double.isFinite(v)) {
      return Verdict.HOLD; // absent; a non-finite value is the non_finite detector's alert
    }
    Config c = config(ctx, Config.class, Config::from);
    if (!firing()) {
      if (!hysteresis.fires(v > c.warn(), c.sustain())) {
        return Verdict.HOLD;
      }
      peak = v;
      List<String> layers = Layers.top(m, GLOBAL, 3, 0.5);
      return Verdict.warning(
          Fmt.fmt(
              "max attention logit %s%s > %s (healthy runs stay below ~35): attention is going one-hot, the loss diverges next",
              Fmt.num(v), Layers.text(layers), Fmt.num(c.warn())),
          Remedies.withRollback(Remedies.ATTENTION, ctx),
          Evidence.of()
              .finite("attn_max_logit", v)
              .text("layer", layers.isEmpty() ? "all" : layers.get(0))
              .list("layers", layers)
              .finite("threshold", c.warn())
              .finite("healthy_typical", 35.0)
              .finite("lr", ctx.lr()));
    }
    peak = Math.max(peak, v);
    if (!hysteresis.resolves(v < c.resolve(), c.sustain())) {
      return Verdict.HOLD;
    }
    return Verdict.resolve(
        "max attention logit back below " + c.resolve(),
        Evidence.of().num("attn_max_logit", v).num("peak", peak).num("resolve_below", c.resolve()));
  }

  /** Index of the largest finite per-layer max logit, or -1. */
  static int worstLayer(Metrics m) {
    int best = -1;
    for (int i = 0; i < m.size(); i++) {
      if (m.name(i).startsWith(PER_LAYER)
          && Double.isFinite(m.value(i))
          && (best < 0 || m.value(i) > m.value(best))) {
        best = i;
      }
    }
    return best;
  }

  @Override
  protected void writeRuleState(DataOutput out) throws IOException {
    hysteresis.write(out);
    out.writeDouble(peak);
  }

  @Override
  protected void readRuleState(DataInput in, int version) throws IOException {
    hysteresis.read(in);
    peak = in.readDouble();
  }
}
