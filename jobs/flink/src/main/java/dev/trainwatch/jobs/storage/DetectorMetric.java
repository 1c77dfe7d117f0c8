package dev.trainwatch.jobs.storage;

/**
 * One internal number of a detector at one step (e.g. {@code margin_p50}, {@code grad_norm_ema},
 * {@code min_acc/t0}, {@code wc_acc}), stored in the {@code detector} measurement. The job emits
 * these through a side output ({@code MonitorFunction.METRICS}); {@link StorageTopology#attach}
 * stores them. {@code timeMs} is the wall clock of the triggering record, or -1.
 */
public record DetectorMetric(
    String run, long step, long timeMs, String detector, String name, double value) {

  public DetectorMetric {
    if (run == null
        || run.isEmpty()
        || detector == null
        || detector.isEmpty()
        || name == null
        || name.isEmpty()) {
      throw new IllegalArgumentException("run, detector and name must be non-empty");
    }
  }
}
