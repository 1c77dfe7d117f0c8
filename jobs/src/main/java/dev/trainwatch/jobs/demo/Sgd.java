package dev.trainwatch.jobs.demo;

/** Plain stochastic gradient descent: {@code w -= lr * g}. */
final class Sgd implements Optimizer {

  @Override
  public double step(Params p, float lr) {
    double sq = 0;
    for (int i = 0; i < p.w.length; i++) {
      float before = p.w[i];
      p.w[i] = before - lr * p.g[i];
      double d = p.w[i] - before;
      sq += d * d;
    }
    return sq;
  }

  @Override
  public String describe() {
    return "sgd";
  }
}
