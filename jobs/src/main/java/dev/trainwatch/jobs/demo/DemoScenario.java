package dev.trainwatch.jobs.demo;

import java.time.InstantSource;
import java.util.List;

/**
 * The runs {@code trainwatch demo} trains live: one of each failure family and healthy twins
 * that must stay quiet. Every run trains a real float32 model in-process; nothing is replayed.
 *
 * <p>Measured with {@link #DEFAULT_SEED} (seed 2 moves each step by a few tens at most).
 * Steps are optimizer steps, one record each:
 *
 * <table>
 *   <caption>runs of {@link #standard}</caption>
 *   <tr><th>run</th><th>kind</th><th>steps</th><th>what happens</th></tr>
 *   <tr><td>{@code sc-mlp-p23-s<seed>}</td><td>softmax_collapse</td><td>1000</td>
 *       <td>(a+b) mod 23, 265 training pairs, full batch, Adam b2=0.95, no weight decay.
 *       train/acc 1.0 at step 64; margin_mean then climbs ~2.5 nats per 100 steps;
 *       absorbed_frac first > 0 at 505, first >= 0.5 at 569 (onset), peaks 0.85; the
 *       absorbed samples' float32 loss is exactly 0 (zero_loss_frac = absorbed_frac).</td></tr>
 *   <tr><td>{@code mlp-p23-wd1-s<seed>}</td><td>healthy</td><td>1000</td>
 *       <td>the same with AdamW wd=1: train/acc 1.0 at 79, margin_mean stays below 9.8,
 *       absorbed_frac 0 throughout.</td></tr>
 *   <tr><td>{@code lr-mlp-lr2e-1-s<seed>}</td><td>divergence</td><td>600</td>
 *       <td>MLP on 10 Gaussian clusters, Adam, warm-up to LR 0.2 over 400 steps. 20-step mean
 *       loss bottoms at 0.79 (step 47), stays above 1.5x that from step 213 (LR ~0.1),
 *       then every ReLU dies and the loss sits at ln 10 = 2.30 to the end.</td></tr>
 *   <tr><td>{@code lr-mlp-lr3e-3-s<seed>}</td><td>healthy</td><td>600</td>
 *       <td>the same at LR 3e-3: loss falls to ~0.6 and stays (never 1.5x its minimum).</td></tr>
 *   <tr><td>{@code attn-maj-lr3e-1-s<seed>}</td><td>divergence</td><td>600</td>
 *       <td>single-head attention, majority vote, warm-up to LR 0.3 over 200 steps. 20-step
 *       mean loss bottoms at 0.73 (step ~103), above 1.5x that from step 134 on;
 *       attn/max_logit passes 100 at 183 and 1000 by ~210 (it is ~1-5 while healthy),
 *       attn/entropy_min falls from ~2 nats to 0; loss settles at 2.5-3.6.</td></tr>
 *   <tr><td>{@code cl-gauss-ci-replay-s<seed>}</td><td>stability_gap</td><td>600</td>
 *       <td>4 class-incremental tasks of 2 classes, SGD 0.3, batch 32 + 8 replayed from a
 *       100-sample buffer; switches at 150, 300, 450. eval/acc/t0 0.95 before the first
 *       switch, 0.49 at step 153, back to 0.65 over steps 170-210; at 300, t1 falls 0.90 to
 *       0.22 (step 302) and recovers to 0.36; at 450, t2 falls 0.92 to 0.38.</td></tr>
 * </table>
 *
 * <p>CPU (one core, measured): 1.2 s for each modular-addition run, 0.3-0.45 s for each of the
 * others, 3.8 s for the whole scenario.
 *
 * <pre>{@code
 * for (DemoRun run : DemoScenario.standard(DemoScenario.DEFAULT_SEED, InstantSource.system()).runs()) {
 *   while (run.hasNext()) publish(run.next());
 * }
 * }</pre>
 */
public record DemoScenario(List<DemoRun> runs) {

  public static final long DEFAULT_SEED = 1;

  static final ModularAdditionRun.Config COLLAPSE =
      new ModularAdditionRun.Config(23, 0.5, 64, 0.01f, 0.95f, 0f, 1f, 1000);
  static final ModularAdditionRun.Config COLLAPSE_WEIGHT_DECAY =
      new ModularAdditionRun.Config(23, 0.5, 64, 0.01f, 0.95f, 1f, 1f, 1000);
  static final LearningRateRun.Config DIVERGE =
      new LearningRateRun.Config(10, 16, 64, 0.7f, 1f, 0.2f, 400, 64, 600);
  static final LearningRateRun.Config STABLE_LR =
      new LearningRateRun.Config(10, 16, 64, 0.7f, 1f, 0.003f, 400, 64, 600);
  static final AttentionRun.Config ATTENTION_DIVERGE =
      new AttentionRun.Config(8, 8, 8, 16, 0.3f, 200, 32, 600);
  static final ContinualLearningRun.Config CONTINUAL =
      new ContinualLearningRun.Config(4, 2, 20, 64, 0.5f, 1f, 0.3f, 150, 32, 100, 8, 50);

  public DemoScenario {
    runs = List.copyOf(runs);
  }

  /**
   * Fresh, untrained runs; each trains as it is iterated. With a fixed {@code clock} the
   * records of equal seeds are equal.
   */
  public static DemoScenario standard(long seed, InstantSource clock) {
    String s = "-s" + seed;
    return new DemoScenario(
        List.of(
            new ModularAdditionRun("sc-mlp-p23" + s, "softmax_collapse", COLLAPSE, seed, clock),
            new ModularAdditionRun("mlp-p23-wd1" + s, "healthy", COLLAPSE_WEIGHT_DECAY, seed, clock),
            new LearningRateRun("lr-mlp-lr2e-1" + s, "divergence", DIVERGE, seed, clock),
            new LearningRateRun("lr-mlp-lr3e-3" + s, "healthy", STABLE_LR, seed, clock),
            new AttentionRun("attn-maj-lr3e-1" + s, "divergence", ATTENTION_DIVERGE, seed, clock),
            new ContinualLearningRun("cl-gauss-ci-replay" + s, "stability_gap", CONTINUAL, seed, clock)));
  }
}
