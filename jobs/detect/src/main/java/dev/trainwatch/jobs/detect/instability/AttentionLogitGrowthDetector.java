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
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Attention-logit growth (Dehghani et al. 2023, Wortsman et al. 2023): the largest pre-softmax
 * attention logit grows without bound, attention goes one-hot and the loss diverges hundreds of
 * steps later. Reads {@code attn/max_logit}, else the largest {@code attn/max_logit/<layer>}; the
 * evidence names the worst layer. A precursor: warning.
 */
public final class AttentionLogitGrowthDetector implements Detector {

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

  private final AlertLatch latch = new AlertLatch(Family.INSTABILITY, NAME);
  private final Sustain sustain = new Sustain();
  private double peak;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void observe(TelemetryRecord r, RunContext ctx, AlertSink out) {
    Metrics m = r.metrics();
    double v = m.get(GLOBAL);
    int layer = -1;
    if (!Double.isFinite(v)) {
      layer = worstLayer(m);
      v = layer < 0 ? Double.NaN : m.value(layer);
    }
    if (!Double.isFinite(v)) {
      return; // absent; a non-finite value is the non_finite detector's alert
    }
    Config c = ctx.config(Config.class, Config::from);
    if (!latch.isFiring()) {
      if (sustain.hold(v > c.warn(), c.sustain())) {
        peak = v;
        java.util.List<String> layers = dev.trainwatch.jobs.detect.Layers.top(m, GLOBAL, 3, 0.5);
        latch.raise(
            Severity.WARNING,
            ctx,
            r.step(),
            r.timeMs(),
            dev.trainwatch.jobs.detect.Fmt.fmt(
                "max attention logit %s%s > %s (healthy runs stay below ~35): attention is going one-hot, the loss diverges next",
                dev.trainwatch.jobs.detect.Fmt.num(v),
                dev.trainwatch.jobs.detect.Layers.text(layers),
                dev.trainwatch.jobs.detect.Fmt.num(c.warn())),
            Remedies.withRollback(Remedies.ATTENTION, ctx),
            dev.trainwatch.jobs.detect.Evidence.of("attn_max_logit", v)
                .put("layer", layers.isEmpty() ? "all" : layers.get(0))
                .put("layers", layers.isEmpty() ? null : layers)
                .num("threshold", c.warn())
                .num("healthy_typical", 35.0)
                .num("lr", ctx.lr())
                .map(),
            out);
        sustain.reset();
      }
      return;
    }
    peak = Math.max(peak, v);
    if (sustain.release(v < c.resolve(), c.sustain())) {
      Map<String, Object> ev = new LinkedHashMap<>();
      ev.put("attn_max_logit", v);
      ev.put("peak", peak);
      ev.put("resolve_below", c.resolve());
      latch.resolve(
          ctx, r.step(), r.timeMs(), "max attention logit back below " + c.resolve(), ev, out);
      sustain.reset();
    }
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
  public void writeState(DataOutput out) throws IOException {
    latch.write(out);
    sustain.write(out);
    out.writeDouble(peak);
  }

  @Override
  public void readState(DataInput in) throws IOException {
    latch.read(in);
    sustain.read(in);
    peak = in.readDouble();
  }
}
