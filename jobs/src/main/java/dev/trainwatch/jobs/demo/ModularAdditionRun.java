package dev.trainwatch.jobs.demo;

import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bias-free one-hidden-layer MLP learning {@code (a + b) mod p} full-batch with Adam in
 * float32, after Prieto et al. (2025). Without weight decay it memorises the training pairs,
 * then keeps scaling its logits until the float32 softmax absorbs every other class: the
 * per-sample loss becomes exactly 0 ({@code logits/absorbed_frac} rises past 0.5). With
 * AdamW weight decay the logits stay bounded and nothing saturates: its healthy twin.
 *
 * <p>Inputs are the concatenated one-hot codes of a and b ({@code 2p} wide); eval/acc on the
 * held-out pairs is reported every {@link #EVAL_EVERY} steps, raw logit rows every
 * {@link #SAMPLE_EVERY}.
 */
final class ModularAdditionRun extends TrainingRun {

  static final int EVAL_EVERY = 25;
  static final int SAMPLE_EVERY = 50;

  /**
   * Hyperparameters; {@code weightDecay = 0} gives the collapsing run.
   *
   * <p>Why {@code beta2} sets the speed of collapse rather than {@code lr}: once the training
   * set is fitted, the gradient shrinks like exp(-margin), and Adam's step stays lr-sized only
   * while the gradient shrinks no faster than its second-moment average forgets, i.e. the
   * margin can grow at most about {@code -ln(beta2) / 2} nats per step. Measured here:
   * 0.55 nats per 100 steps with beta2 = 0.99 (collapse after ~2100 steps, as in the public
   * p=97 traces) and ~2.8 with beta2 = 0.95 (collapse at ~570), whatever the lr.
   */
  record Config(
      int p, double trainFrac, int hidden, float lr, float beta2, float weightDecay, float initGain, int steps) {

    Adam optimizer() {
      return new Adam(0.9f, beta2, 1e-8f, weightDecay);
    }
  }

  private final Config config;
  private final Mlp mlp;
  private final Optimizer optimizer;
  private final Split train;
  private final Split heldOut;

  private record Split(float[] x, int[] y, int n) {}

  ModularAdditionRun(String run, String kind, Config c, long seed, InstantSource clock) {
    super(run, kind, c.steps(), tags(c), clock);
    this.config = c;
    Rng rng = new Rng(seed);
    this.mlp = new Mlp(new int[] {2 * c.p(), c.hidden(), c.p()}, c.initGain(), rng);
    this.optimizer = c.optimizer();
    int[] order = rng.permutation(c.p() * c.p());
    int nTrain = (int) Math.round(c.trainFrac() * order.length);
    this.train = split(order, 0, nTrain, c.p());
    this.heldOut = split(order, nTrain, order.length, c.p());
  }

  private static Map<String, String> tags(Config c) {
    Map<String, String> t = new LinkedHashMap<>();
    t.put("dtype", "float32");
    t.put("model", "mlp-onehot" + 2 * c.p() + "-h" + c.hidden() + "-nobias");
    t.put("optimizer", c.optimizer().describe());
    t.put("lr", Float.toString(c.lr()));
    t.put("weight_decay", Float.toString(c.weightDecay()));
    t.put("task", "mod_add_p" + c.p());
    t.put("train_frac", Double.toString(c.trainFrac()));
    t.put("batch", "full");
    t.put("source", "trainwatch-demo");
    return t;
  }

  private static Split split(int[] order, int from, int to, int p) {
    int n = to - from;
    float[] x = new float[n * 2 * p];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      int a = order[from + i] / p;
      int b = order[from + i] % p;
      x[i * 2 * p + a] = 1f;
      x[i * 2 * p + p + b] = 1f;
      y[i] = (a + b) % p;
    }
    return new Split(x, y, n);
  }

  @Override
  StepOutcome train(int step) {
    int p = config.p();
    float[] logits = mlp.forward(train.x(), train.n());
    SoftmaxCrossEntropy.Result batch = SoftmaxCrossEntropy.of(logits, train.n(), p, train.y());
    mlp.params().zeroGrad();
    mlp.backward(batch.dlogits(), train.n());
    Map<String, Double> m = StepMetrics.step(mlp.params(), optimizer, config.lr(), batch, true);
    if (step % EVAL_EVERY == 0 && heldOut.n() > 0) {
      float[] eval = mlp.forward(heldOut.x(), heldOut.n());
      m.put("eval/acc", SoftmaxCrossEntropy.accuracy(eval, heldOut.n(), p, heldOut.y()));
    }
    return new StepOutcome(
        m, null, false, step % SAMPLE_EVERY == 0 ? StepMetrics.sample(logits, train.n(), p, train.y(), 8) : null);
  }
}
