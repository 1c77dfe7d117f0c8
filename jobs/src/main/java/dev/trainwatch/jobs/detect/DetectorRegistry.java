package dev.trainwatch.jobs.detect;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Every detector trainwatch runs, in the order they see a record. A new detector is one
 * line here; its state key is its {@link Detector#name()}, so the order may change freely.
 */
public final class DetectorRegistry {

  private static final List<Supplier<Detector>> ALL = new ArrayList<>();

  static {
    // softmax_collapse
    ALL.add(dev.trainwatch.jobs.detect.collapse.SoftmaxAbsorptionDetector::new);
    // instability
    ALL.add(dev.trainwatch.jobs.detect.instability.NonFiniteDetector::new);
    ALL.add(dev.trainwatch.jobs.detect.instability.AttentionLogitGrowthDetector::new);
    ALL.add(dev.trainwatch.jobs.detect.instability.AttentionEntropyCollapseDetector::new);
    ALL.add(dev.trainwatch.jobs.detect.instability.OutputLogitDriftDetector::new);
    ALL.add(dev.trainwatch.jobs.detect.instability.GradNormSpikeDetector::new);
    ALL.add(dev.trainwatch.jobs.detect.instability.LossSpikeDetector::new);
    ALL.add(dev.trainwatch.jobs.detect.instability.EdgeOfStabilityDetector::new);
    ALL.add(dev.trainwatch.jobs.detect.instability.UpdateRatioDetector::new);
    ALL.add(dev.trainwatch.jobs.detect.instability.LossScaleCollapseDetector::new);
    ALL.add(dev.trainwatch.jobs.detect.instability.SuddenDivergenceDetector::new);
    ALL.add(dev.trainwatch.jobs.detect.instability.DivergenceDetector::new);
    // stability_gap
    ALL.add(dev.trainwatch.jobs.detect.gap.StabilityGapDetector::new);
  }

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
