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
 * Attention-entropy collapse (Zhai et al. 2023): the mean attention entropy of some head
 * ({@code attn/entropy_min}, nats) falls to ~0, i.e. every query puts all its mass on one
 * key; the softmax gradient vanishes and training destabilises. A precursor: warning.
 *
 * <p>Why so low a threshold: healthy heads that attend to the previous token legitimately
 * reach ~0.015 nats, so only a further order of magnitude (1e-3 nats: the top key holds more
 * than 99.99% of the mass on average) separates collapse from specialisation.
 */
public final class AttentionEntropyCollapseDetector implements Detector {

  public static final String NAME = "attention_entropy_collapse";
  static final String METRIC = "attn/entropy_min";

  /**
   * @param warn entropy (nats) below which the warning fires (1e-3; healthy runs here bottom
   *     out at 0.015, collapsing ones fall below 1e-3 80-190 steps before divergence; 5e-3
   *     would give 245-285 steps at 3x instead of 15x margin)
   * @param resolve entropy above which it resolves (1e-2, hysteresis)
   * @param sustain consecutive records below {@code warn} before firing (10)
   */
  public record Config(double warn, double resolve, int sustain) {
    public static Config from(Settings s) {
      return new Config(
          s.getDouble("instability.attention_entropy_collapse.warn", 1e-3),
          s.getDouble("instability.attention_entropy_collapse.resolve", 1e-2),
          s.getInt("instability.attention_entropy_collapse.sustain", 10));
    }
  }

  private final AlertLatch latch = new AlertLatch(Family.INSTABILITY, NAME);
  private final Sustain sustain = new Sustain();
  private double startEntropy = Double.NaN;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void observe(TelemetryRecord r, RunContext ctx, AlertSink out) {
    double e = r.metrics().get(METRIC);
    if (!Double.isFinite(e)) {
      return;
    }
    if (Double.isNaN(startEntropy)) {
      startEntropy = e;
    }
    Config c = ctx.config(Config.class, Config::from);
    if (!latch.isFiring()) {
      if (sustain.hold(e < c.warn(), c.sustain())) {
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("entropy_min", e);
        ev.put("initial_entropy", startEntropy);
        ev.put("threshold", c.warn());
        ev.put("attn_max_logit", r.metrics().get(AttentionLogitGrowthDetector.GLOBAL));
        ev.put("lr", ctx.lr());
        latch.raise(Severity.WARNING, ctx, r.step(), r.timeMs(),
            dev.trainwatch.jobs.detect.Fmt.fmt("attention entropy collapsed to %.2g nats (< %.2g): a head attends one-hot", e, c.warn()),
            Remedies.withRollback(Remedies.ATTENTION, ctx), ev, out);
        sustain.reset();
      }
      return;
    }
    if (sustain.release(e > c.resolve(), c.sustain())) {
      Map<String, Object> ev = new LinkedHashMap<>();
      ev.put("entropy_min", e);
      ev.put("resolve_above", c.resolve());
      latch.resolve(ctx, r.step(), r.timeMs(), "attention entropy recovered above " + c.resolve(), ev, out);
      sustain.reset();
    }
  }

  @Override
  public void writeState(DataOutput out) throws IOException {
    latch.write(out);
    sustain.write(out);
    out.writeDouble(startEntropy);
  }

  @Override
  public void readState(DataInput in) throws IOException {
    latch.read(in);
    sustain.read(in);
    startEntropy = in.readDouble();
  }
}
