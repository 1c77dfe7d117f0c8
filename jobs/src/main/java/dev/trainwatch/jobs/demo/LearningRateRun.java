package dev.trainwatch.jobs.demo;

import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A ReLU MLP classifying overlapping {@link GaussianClusters} with mini-batch Adam under a
 * linear warm-up to a constant peak learning rate. The peak decides the outcome: a modest
 * one trains healthily; a too-large one first trains while the warm-up LR is small, then,
 * once the LR passes what the loss surface tolerates, Adam's lr-sized steps throw the
 * weights out of the basin, the logits blow up and the loss rises and stays high
 * (divergence without NaN, like the public {@code lm-char-*-lr1e-1} traces).
 */
final class LearningRateRun extends TrainingRun {

  static final int SAMPLE_EVERY = 50;

  record Config(
      int classes,
      int dim,
      int hidden,
      float separation,
      float noise,
      float peakLr,
      int warmupSteps,
      int batch,
      int steps) {

    /** LR in force at {@code step}: linear warm-up from peak/warmup, then constant. */
    float lrAt(int step) {
      return step < warmupSteps ? peakLr * (step + 1) / warmupSteps : peakLr;
    }
  }

  private final Config config;
  private final Mlp mlp;
  private final Optimizer optimizer = new Adam(0.9f, 0.95f, 1e-8f, 0f);
  private final GaussianClusters data;
  private final int[] allClasses;
  private final Rng rng;

  LearningRateRun(String run, String kind, Config c, long seed, InstantSource clock) {
    super(run, kind, c.steps(), tags(c), clock);
    this.config = c;
    this.rng = new Rng(seed);
    this.data = new GaussianClusters(c.classes(), c.dim(), c.separation(), c.noise(), rng);
    this.mlp = new Mlp(new int[] {c.dim(), c.hidden(), c.hidden(), c.classes()}, 1f, rng);
    this.allClasses = new int[c.classes()];
    for (int k = 0; k < allClasses.length; k++) {
      allClasses[k] = k;
    }
  }

  private static Map<String, String> tags(Config c) {
    Map<String, String> t = new LinkedHashMap<>();
    t.put("dtype", "float32");
    t.put("model", "mlp-" + c.dim() + "-" + c.hidden() + "-" + c.hidden() + "-" + c.classes() + "-nobias");
    t.put("optimizer", new Adam(0.9f, 0.95f, 1e-8f, 0f).describe());
    t.put("lr", Float.toString(c.peakLr()));
    t.put("schedule", "const");
    t.put("warmup", Integer.toString(c.warmupSteps()));
    t.put("dataset", "gaussian-clusters-d" + c.dim());
    t.put("batch", Integer.toString(c.batch()));
    t.put("source", "trainwatch-demo");
    return t;
  }

  @Override
  StepOutcome train(int step) {
    GaussianClusters.Batch b = data.sample(allClasses, config.batch(), rng);
    float[] logits = mlp.forward(b.x(), b.n());
    SoftmaxCrossEntropy.Result r = SoftmaxCrossEntropy.of(logits, b.n(), config.classes(), b.y());
    mlp.params().zeroGrad();
    mlp.backward(r.dlogits(), b.n());
    Map<String, Double> m = StepMetrics.step(mlp.params(), optimizer, config.lrAt(step), r, false);
    return new StepOutcome(
        m, null, false,
        step % SAMPLE_EVERY == 0 ? StepMetrics.sample(logits, b.n(), config.classes(), b.y(), 8) : null);
  }
}
