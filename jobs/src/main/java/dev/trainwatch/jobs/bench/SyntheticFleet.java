package dev.trainwatch.jobs.bench;

import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Tags;
import dev.trainwatch.wire.TelemetryJson;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.SplittableRandom;

/**
 * Telemetry of many concurrent, healthy-looking training runs for load tests: each record
 * carries {@value #METRICS} well-known metrics following a smooth per-run trajectory with
 * noise, so every detector does its ordinary per-record work. Deterministic for a seed.
 */
public final class SyntheticFleet {

  public static final int METRICS = 20;

  private static final String[] NAMES = {
      "loss", "lr", "grad_norm", "param_norm", "update_ratio", "grad_weight_cos",
      "logits/max_abs", "logits/margin_mean", "logits/lse_mean", "logits/zero_loss_frac",
      "logits/absorbed_frac", "attn/max_logit", "attn/max_logit/0", "attn/max_logit/1",
      "attn/entropy_min", "eval/loss", "eval/acc", "train/acc", "tokens_per_s", "gpu_mem_gb"};

  private final int runs;
  private final String[] runNames;
  private final long[] steps;
  private final SplittableRandom random;
  private int next;

  public SyntheticFleet(int runs, long seed) {
    this.runs = runs;
    this.runNames = new String[runs];
    this.steps = new long[runs];
    for (int i = 0; i < runs; i++) {
      runNames[i] = String.format("bench-run-%04d", i);
    }
    this.random = new SplittableRandom(seed);
  }

  public int runs() {
    return runs;
  }

  /** The next record, round-robin over the runs (as concurrent jobs interleave). */
  public TelemetryRecord next(long timeMs) {
    int r = next;
    next = (next + 1) % runs;
    long step = steps[r]++;
    double t = step / 1000.0;
    double noise = 1 + 0.02 * random.nextGaussian();
    double[] v = {
        (0.5 + 4.0 * Math.exp(-t)) * noise, 3e-4, 0.8 * noise, 150 + 5 * t, 1e-3 * noise, 0.05 * noise,
        8 + t, 2 + 0.5 * t, 4.2 - 0.3 * t * noise, 0.0, 0.0, 12 * noise, 11 * noise, 12 * noise,
        1.5 * noise, (0.6 + 4.0 * Math.exp(-t)) * noise, Math.min(0.95, 0.1 + 0.1 * t), 0.5, 5e4 * noise, 30};
    Tags tags = step == 0 ? Tags.of(java.util.Map.of("dtype", "bfloat16", "model", "bench")) : Tags.EMPTY;
    return new TelemetryRecord(runNames[r], step, timeMs, null, step == 0 ? TelemetryRecord.RUN_START : null,
        new Metrics(NAMES.clone(), v), tags, null);
  }

  /** A record whose loss is NaN: makes the non-finite detector fire at once (latency probes). */
  public TelemetryRecord poisoned(long timeMs) {
    TelemetryRecord ok = next(timeMs);
    double[] v = ok.metrics().values().clone();
    v[0] = Double.NaN;
    return new TelemetryRecord(ok.run(), ok.step(), timeMs, null, null, new Metrics(ok.metrics().names(), v),
        ok.tags(), null);
  }

  public byte[] nextJson(long timeMs) {
    return TelemetryJson.toBytes(next(timeMs));
  }
}
