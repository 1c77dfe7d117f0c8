package dev.trainwatch.jobs.demo;

import java.util.ArrayList;
import java.util.List;

/**
 * A small class-balanced memory of past-task samples for experience replay: when a task
 * ends its samples are added and every class keeps an equal share of the capacity.
 */
final class ReplayBuffer {

  private final int capacity;
  private final int dim;
  private final List<List<float[]>> byClass = new ArrayList<>();
  private final List<Integer> labels = new ArrayList<>();

  ReplayBuffer(int capacity, int dim) {
    this.capacity = capacity;
    this.dim = dim;
  }

  boolean isEmpty() {
    return labels.isEmpty();
  }

  /** Stores {@code batch}'s rows, then trims every class to capacity / classes rows. */
  void add(GaussianClusters.Batch batch) {
    for (int i = 0; i < batch.n(); i++) {
      int label = batch.y()[i];
      int k = labels.indexOf(label);
      if (k < 0) {
        labels.add(label);
        byClass.add(new ArrayList<>());
        k = labels.size() - 1;
      }
      float[] row = new float[dim];
      System.arraycopy(batch.x(), i * dim, row, 0, dim);
      byClass.get(k).add(row);
    }
    int quota = capacity / labels.size();
    for (List<float[]> rows : byClass) {
      while (rows.size() > quota) {
        rows.remove(rows.size() - 1);
      }
    }
  }

  /** {@code n} rows drawn uniformly with replacement over classes, then rows. */
  GaussianClusters.Batch sample(int n, Rng rng) {
    float[] x = new float[n * dim];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      int k = rng.nextInt(labels.size());
      List<float[]> rows = byClass.get(k);
      System.arraycopy(rows.get(rng.nextInt(rows.size())), 0, x, i * dim, dim);
      y[i] = labels.get(k);
    }
    return new GaussianClusters.Batch(x, y, n);
  }
}
