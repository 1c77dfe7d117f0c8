package dev.trainwatch.jobs.bench;

import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Tags;
import dev.trainwatch.wire.TelemetryJson;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Telemetry of many concurrent, healthy-looking training runs for load tests: each record carries
 * {@value #METRICS} well-known metrics following a smooth per-run trajectory with noise, so every
 * detector does its ordinary per-record work. Deterministic for a seed.
 *
 * <p>A wide fleet ({@link #wide}) adds per-layer metrics, {@code <metric>/layer.<N>} for each of up
 * to {@value #MAX_FAMILIES} families ({@code grad_norm/layer.17}, {@code attn/max_logit/layer.3},
 * ...): what large runs log (OLMo-core's GAP monitor, Megatron's per-layer norms: 0.7k-5k values a
 * step for a 32-layer model), all of it healthy, so the per-layer cost is the detectors' ordinary
 * work, not alert formatting.
 */
public final class SyntheticFleet {

  public static final int METRICS = 20;

  private static final String[] NAMES = {
    "loss",
    "lr",
    "grad_norm",
    "param_norm",
    "update_ratio",
    "grad_weight_cos",
    "logits/max_abs",
    "logits/margin_mean",
    "logits/lse_mean",
    "logits/zero_loss_frac",
    "logits/absorbed_frac",
    "attn/max_logit",
    "attn/max_logit/0",
    "attn/max_logit/1",
    "attn/entropy_min",
    "eval/loss",
    "eval/acc",
    "train/acc",
    "tokens_per_s",
    "gpu_mem_gb"
  };

  /** Per-layer families, in the order a wide record carries them. */
  private static final String[] FAMILIES = {
    "grad_norm",
    "attn/max_logit",
    "param_norm",
    "update_ratio",
    "act_rms",
    "act_max_abs",
    "attn/entropy_min",
    "attn/logit_std",
    "mlp/act_rms",
    "grad_weight_cos"
  };

  public static final int MAX_FAMILIES = 10;

  /** Healthy per-layer levels of each family (attention logits below the global 12). */
  private static final double[] FAMILY_LEVEL = {0.08, 9, 15, 1e-3, 1.0, 6, 2.0, 1.5, 1.2, 0.05};

  private final int runs;
  private final String[] names;
  private final int layers;
  private final String[] runNames;
  private final long[] steps;
  private final SplittableRandom random;
  private int next;

  public SyntheticFleet(int runs, long seed) {
    this(runs, seed, 0, 0);
  }

  /**
   * A fleet whose records carry the {@value #METRICS} scalars and {@code families} per-layer
   * metrics for each of {@code layers} layers ({@code 20 + layers * families} in all).
   */
  public static SyntheticFleet wide(int runs, long seed, int layers, int families) {
    return new SyntheticFleet(runs, seed, layers, families);
  }

  /**
   * A wide fleet of about {@code metricsPerRecord} metrics a record: 10 families, as many layers as
   * fit.
   */
  public static SyntheticFleet wide(int runs, long seed, int metricsPerRecord) {
    return wide(runs, seed, Math.max(1, (metricsPerRecord - METRICS) / MAX_FAMILIES), MAX_FAMILIES);
  }

  private SyntheticFleet(int runs, long seed, int layers, int families) {
    if (families < 0 || families > MAX_FAMILIES || layers < 0) {
      throw new IllegalArgumentException(
          "families must be 0.." + MAX_FAMILIES + " and layers >= 0");
    }
    this.layers = families == 0 ? 0 : layers;
    this.names = Arrays.copyOf(NAMES, METRICS + this.layers * families);
    for (int f = 0, k = METRICS; f < families; f++) {
      for (int l = 0; l < this.layers; l++) {
        names[k++] = FAMILIES[f] + "/layer." + l;
      }
    }
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

  /** Metrics per record. */
  public int metrics() {
    return names.length;
  }

  public int layers() {
    return layers;
  }

  /** The next record, round-robin over the runs (as concurrent jobs interleave). */
  public TelemetryRecord next(long timeMs) {
    int r = next;
    next = (next + 1) % runs;
    long step = steps[r]++;
    double t = step / 1000.0;
    double noise = 1 + 0.02 * random.nextGaussian();
    double[] v = {
      (0.5 + 4.0 * Math.exp(-t)) * noise,
      3e-4,
      0.8 * noise,
      150 + 5 * t,
      1e-3 * noise,
      0.05 * noise,
      8 + t,
      2 + 0.5 * t,
      4.2 - 0.3 * t * noise,
      0.0,
      0.0,
      12 * noise,
      11 * noise,
      12 * noise,
      1.5 * noise,
      (0.6 + 4.0 * Math.exp(-t)) * noise,
      Math.min(0.95, 0.1 + 0.1 * t),
      0.5,
      5e4 * noise,
      30
    };
    if (names.length > METRICS) {
      v = Arrays.copyOf(v, names.length);
      // per-layer values: the family's level, a fixed per-layer profile and the step's noise
      // (one random draw a record: the generator must not be what the benchmark measures), as
      // float32, as statistics computed on the device are (a tensor's .item() or .tolist())
      for (int k = METRICS; k < names.length; k++) {
        int f = (k - METRICS) / layers;
        int l = (k - METRICS) % layers;
        v[k] = (float) (FAMILY_LEVEL[f] * (0.8 + 0.4 * ((l * 7919 % 97) / 97.0)) * noise);
      }
    }
    Tags tags = step == 0 ? Tags.of(Map.of("dtype", "bfloat16", "model", "bench")) : Tags.EMPTY;
    return new TelemetryRecord(
        runNames[r],
        step,
        timeMs,
        null,
        step == 0 ? TelemetryRecord.RUN_START : null,
        new Metrics(names.clone(), v),
        tags,
        null);
  }

  /** A record whose loss is NaN: makes the non-finite detector fire at once (latency probes). */
  public TelemetryRecord poisoned(long timeMs) {
    TelemetryRecord ok = next(timeMs);
    double[] v = ok.metrics().values().clone();
    v[0] = Double.NaN;
    return new TelemetryRecord(
        ok.run(),
        ok.step(),
        timeMs,
        null,
        null,
        new Metrics(ok.metrics().names(), v),
        ok.tags(),
        null);
  }

  public byte[] nextJson(long timeMs) {
    return TelemetryJson.toBytes(next(timeMs));
  }
}
