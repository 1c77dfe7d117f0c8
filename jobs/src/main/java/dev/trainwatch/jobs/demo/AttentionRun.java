package dev.trainwatch.jobs.demo;

import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An {@link AttentionModel} learning a retrieval task with mini-batch Adam under a linear
 * warm-up to a constant peak LR, publishing {@code attn/max_logit} and {@code attn/entropy_min}
 * besides the usual metrics. Task: majority vote. The first {@code len - 1} positions hold
 * class tokens, {@code len / 2} of them the majority class and the rest random distractors;
 * the last position holds a query (noise) token and must <em>average</em> its attention over
 * the sequence to find the majority. {@link #LABEL_NOISE} of the labels are random, so the loss
 * has a floor. With a healthy LR the attention stays spread; with a too-large one the
 * attention logits grow until attention is one-hot on a single (often distractor) token,
 * entropy collapses and the loss rises and stays up: attention-logit-growth divergence.
 */
final class AttentionRun extends TrainingRun {

  static final float LABEL_NOISE = 0.1f;

  record Config(int classes, int noiseTokens, int len, int d, float peakLr, int warmupSteps, int batch, int steps) {

    float lrAt(int step) {
      return step < warmupSteps ? peakLr * (step + 1) / warmupSteps : peakLr;
    }
  }

  private final Config config;
  private final AttentionModel model;
  private final Optimizer optimizer = new Adam(0.9f, 0.95f, 1e-8f, 0f);
  private final Rng rng;

  AttentionRun(String run, String kind, Config c, long seed, InstantSource clock) {
    super(run, kind, c.steps(), tags(c), clock);
    this.config = c;
    this.rng = new Rng(seed);
    this.model = new AttentionModel(c.classes() + c.noiseTokens(), c.len(), c.d(), c.classes(), rng);
  }

  private static Map<String, String> tags(Config c) {
    Map<String, String> t = new LinkedHashMap<>();
    t.put("dtype", "float32");
    t.put("model", "attn-L1-h1-d" + c.d() + "-T" + c.len());
    t.put("optimizer", new Adam(0.9f, 0.95f, 1e-8f, 0f).describe());
    t.put("lr", Float.toString(c.peakLr()));
    t.put("schedule", "const");
    t.put("warmup", Integer.toString(c.warmupSteps()));
    t.put("task", "majority-vote");
    t.put("batch", Integer.toString(c.batch()));
    t.put("qk_layernorm", "False");
    t.put("source", "trainwatch-demo");
    return t;
  }

  @Override
  StepOutcome train(int step) {
    int n = config.batch();
    int len = config.len();
    int[] tokens = new int[n * len];
    int[] labels = new int[n];
    for (int b = 0; b < n; b++) {
      int majority = rng.nextInt(config.classes());
      int[] order = rng.permutation(len - 1);
      for (int i = 0; i < len - 1; i++) {
        // the first half (rounded up) of a random order holds the majority, the rest distractors
        int token = i < len / 2 ? majority : (majority + 1 + rng.nextInt(config.classes() - 1)) % config.classes();
        tokens[b * len + order[i]] = token;
      }
      tokens[b * len + len - 1] = config.classes() + rng.nextInt(config.noiseTokens());
      labels[b] = rng.nextInt(1000) < LABEL_NOISE * 1000 ? rng.nextInt(config.classes()) : majority;
    }
    float[] logits = model.forward(tokens, n);
    SoftmaxCrossEntropy.Result r = SoftmaxCrossEntropy.of(logits, n, config.classes(), labels);
    AttentionModel.AttentionStats a = model.attentionStats();
    model.params().zeroGrad();
    model.backward(r.dlogits(), n);
    Map<String, Double> m = StepMetrics.step(model.params(), optimizer, config.lrAt(step), r, false);
    m.put("attn/max_logit", a.maxLogit());
    m.put("attn/max_logit/0", a.maxLogit());
    m.put("attn/entropy_min", a.meanEntropy());
    return new StepOutcome(m, null, false, null);
  }
}
