package dev.trainwatch.jobs.detect;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Every detector trainwatch runs, in the order they see a record. A new detector is one
 * line here; its state key is its {@link Detector#name()}, so the order may change freely.
 */
public final class DetectorRegistry {

  private static final List<Supplier<Detector>> ALL = List.of(
      // softmax_collapse
      // instability
      dev.trainwatch.jobs.detect.instability.NonFiniteDetector::new,
      dev.trainwatch.jobs.detect.instability.AttentionLogitGrowthDetector::new,
      dev.trainwatch.jobs.detect.instability.AttentionEntropyCollapseDetector::new,
      dev.trainwatch.jobs.detect.instability.OutputLogitDriftDetector::new,
      dev.trainwatch.jobs.detect.instability.GradNormSpikeDetector::new,
      dev.trainwatch.jobs.detect.instability.LossSpikeDetector::new,
      dev.trainwatch.jobs.detect.instability.EdgeOfStabilityDetector::new,
      dev.trainwatch.jobs.detect.instability.UpdateRatioDetector::new,
      dev.trainwatch.jobs.detect.instability.LossScaleCollapseDetector::new,
      dev.trainwatch.jobs.detect.instability.DivergenceDetector::new
      // stability_gap
  );

  private DetectorRegistry() {}

  /** Fresh instances of all detectors, for one run. */
  public static List<Detector> newDetectors() {
    List<Detector> out = new ArrayList<>(ALL.size());
    for (Supplier<Detector> s : ALL) {
      out.add(s.get());
    }
    return out;
  }
}
