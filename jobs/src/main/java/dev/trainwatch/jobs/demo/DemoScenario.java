package dev.trainwatch.jobs.demo;

import java.time.InstantSource;
import java.util.List;

/**
 * The runs {@code trainwatch demo} trains live: one of each failure family and healthy twins
 * that must stay quiet. Every run trains a real float32 model in-process; nothing is replayed.
 *
 * <p>Measured with {@link #DEFAULT_SEED} (other seeds shift the steps by some tens):
 *
 * <table>
 *   <caption>runs of {@link #standard}</caption>
 *   <tr><th>run</th><th>kind</th><th>steps</th><th>what happens</th></tr>
 *   <tr><td>{@code sc-mlp-p23-s<seed>}</td><td>softmax_collapse</td><td>1000</td>
 *       <td>train acc 1.0 by step ~100; margin_mean 7.8 at 200, 13.4 at 400; absorbed_frac
 *       first > 0 at ~510, first >= 0.5 at ~560, peaks ~0.85; loss of those samples exactly 0</td></tr>
 *   <tr><td>{@code mlp-p23-wd1-s<seed>}</td><td>healthy</td><td>1000</td>
 *       <td>same model, AdamW wd=1: margin_mean levels off below 10, absorbed_frac stays 0</td></tr>
 *   <tr><td>{@code lr-mlp-lr2e-1-s<seed>}</td><td>divergence</td><td>600</td>
 *       <td>20-step mean loss bottoms at ~0.8 around step 60 (LR ~0.03), exceeds 1.5x that
 *       for good from ~210 (LR ~0.1), then every ReLU dies and the loss sits at ln 10 = 2.30</td></tr>
 *   <tr><td>{@code lr-mlp-lr3e-3-s<seed>}</td><td>healthy</td><td>600</td>
 *       <td>same model, peak LR 3e-3: loss falls to ~0.6 and stays there</td></tr>
 *   <tr><td>{@code cl-gauss-ci-replay-s<seed>}</td><td>stability_gap</td><td>600</td>
 *       <td>4 tasks of 2 classes, switches at 150, 300, 450: earlier tasks' eval/acc drops
 *       by 0.3-0.4 within ~10 steps of each switch, then recovers part of it</td></tr>
 * </table>
 *
 * <p>CPU: about 1.5 s for each modular-addition run, under 1 s for each of the others
 * (4.5 s in all on one core), so trainers stay far below the demo's budget.
 *
 * <pre>{@code
 * for (DemoRun run : DemoScenario.standard(DemoScenario.DEFAULT_SEED, InstantSource.system()).runs()) { ... }
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
            new ContinualLearningRun("cl-gauss-ci-replay" + s, "stability_gap", CONTINUAL, seed, clock)));
  }
}
