package dev.trainwatch.jobs.demo;

/** Updates a flat parameter vector in place from its gradient, in float32. */
interface Optimizer {

  /**
   * Applies one step with learning rate {@code lr}.
   *
   * @return the squared L2 norm of the update actually applied, for {@code update_ratio}
   */
  double step(Params p, float lr);

  /** The {@code optimizer} tag, e.g. {@code adam(b2=0.99,eps=1e-08)}. */
  String describe();
}
