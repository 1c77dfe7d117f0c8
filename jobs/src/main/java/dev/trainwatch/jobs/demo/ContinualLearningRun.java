package dev.trainwatch.jobs.demo;

import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Class-incremental continual learning on {@link GaussianClusters}: task {@code t_i} holds
 * classes {@code 2i, 2i+1}, one shared output head, plain SGD, and a small class-balanced
 * replay buffer mixed into every batch. It shows the stability gap of De Lange et al.
 * (2023): right after each task switch, accuracy on earlier tasks drops sharply (the new
 * classes' logits take over), then partly recovers as replayed samples pull them back.
 *
 * <p>Every step reports {@code eval/acc/<task>} for each task seen so far (including the
 * current one) on a fixed held-out set, plus their mean as {@code eval/acc}; every record
 * carries {@code task}, and each switch is a {@code task_start} event.
 */
final class ContinualLearningRun extends TrainingRun {

  record Config(
      int tasks,
      int classesPerTask,
      int dim,
      int hidden,
      float separation,
      float noise,
      float lr,
      int stepsPerTask,
      int batch,
      int replayCapacity,
      int replayBatch,
      int evalPerClass) {}

  private final Config config;
  private final Mlp mlp;
  private final Optimizer optimizer = new Sgd();
  private final GaussianClusters data;
  private final ReplayBuffer replay;
  private final GaussianClusters.Batch[] heldOut;
  private final Rng rng;

  ContinualLearningRun(String run, String kind, Config c, long seed, InstantSource clock) {
    super(run, kind, c.tasks() * c.stepsPerTask(), tags(c), clock);
    this.config = c;
    this.rng = new Rng(seed);
    int classes = c.tasks() * c.classesPerTask();
    this.data = new GaussianClusters(classes, c.dim(), c.separation(), c.noise(), rng);
    this.mlp = new Mlp(new int[] {c.dim(), c.hidden(), classes}, 1f, rng);
    this.replay = new ReplayBuffer(c.replayCapacity(), c.dim());
    this.heldOut = new GaussianClusters.Batch[c.tasks()];
    for (int t = 0; t < c.tasks(); t++) {
      int[] y = new int[c.evalPerClass() * c.classesPerTask()];
      for (int i = 0; i < y.length; i++) {
        y[i] = t * c.classesPerTask() + i % c.classesPerTask();
      }
      heldOut[t] = data.of(y, rng);
    }
  }

  private static Map<String, String> tags(Config c) {
    Map<String, String> t = new LinkedHashMap<>();
    t.put("dtype", "float32");
    t.put("model", "mlp-" + c.dim() + "-" + c.hidden() + "-" + c.tasks() * c.classesPerTask() + "-nobias");
    t.put("optimizer", "sgd");
    t.put("lr", Float.toString(c.lr()));
    t.put("scenario", "class_inc");
    t.put("dataset", "gaussian-clusters-d" + c.dim());
    t.put("iters_per_task", Integer.toString(c.stepsPerTask()));
    t.put("batch", Integer.toString(c.batch()));
    t.put("replay_buffer", Integer.toString(c.replayCapacity()));
    t.put("replay_batch", Integer.toString(c.replayBatch()));
    t.put("source", "trainwatch-demo");
    return t;
  }

  private int[] classesOf(int task) {
    int[] labels = new int[config.classesPerTask()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = task * config.classesPerTask() + i;
    }
    return labels;
  }

  @Override
  StepOutcome train(int step) {
    int task = step / config.stepsPerTask();
    boolean switched = step > 0 && step % config.stepsPerTask() == 0;
    if (switched) {
      // the finished task's samples enter the memory only now, as in a real task-incremental stream
      replay.add(data.sample(classesOf(task - 1), config.replayCapacity(), rng));
    }
    GaussianClusters.Batch batch = data.sample(classesOf(task), config.batch(), rng);
    if (!replay.isEmpty()) {
      batch = GaussianClusters.concat(batch, replay.sample(config.replayBatch(), rng));
    }
    int classes = mlp.outputs();
    float[] logits = mlp.forward(batch.x(), batch.n());
    SoftmaxCrossEntropy.Result r = SoftmaxCrossEntropy.of(logits, batch.n(), classes, batch.y());
    mlp.params().zeroGrad();
    mlp.backward(r.dlogits(), batch.n());
    Map<String, Double> m = StepMetrics.step(mlp.params(), optimizer, config.lr(), r, false);
    double sum = 0;
    for (int t = 0; t <= task; t++) {
      GaussianClusters.Batch e = heldOut[t];
      double acc = SoftmaxCrossEntropy.accuracy(mlp.forward(e.x(), e.n()), e.n(), classes, e.y());
      m.put("eval/acc/t" + t, acc);
      sum += acc;
    }
    m.put("eval/acc", sum / (task + 1));
    return new StepOutcome(m, "t" + task, switched, null);
  }
}
