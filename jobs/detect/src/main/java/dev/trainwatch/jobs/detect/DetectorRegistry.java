package dev.trainwatch.jobs.detect;

import dev.trainwatch.jobs.detect.instability.AttentionEntropyCollapseDetector;
import dev.trainwatch.jobs.detect.instability.AttentionLogitGrowthDetector;
import dev.trainwatch.jobs.detect.instability.DivergenceDetector;
import dev.trainwatch.jobs.detect.instability.EdgeOfStabilityDetector;
import dev.trainwatch.jobs.detect.instability.GradNormSpikeDetector;
import dev.trainwatch.jobs.detect.instability.LossScaleCollapseDetector;
import dev.trainwatch.jobs.detect.instability.LossSpikeDetector;
import dev.trainwatch.jobs.detect.instability.NonFiniteDetector;
import dev.trainwatch.jobs.detect.instability.OutputLogitDriftDetector;
import dev.trainwatch.jobs.detect.instability.RunStalledDetector;
import dev.trainwatch.jobs.detect.instability.SuddenDivergenceDetector;
import dev.trainwatch.jobs.detect.instability.UpdateRatioDetector;
import dev.trainwatch.jobs.detect.softmaxcollapse.SoftmaxAbsorptionDetector;
import dev.trainwatch.jobs.detect.stabilitygap.OldTaskDropDetector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Every detector trainwatch runs, in the order they see a record, with its declared settings and
 * the factory of its typed {@code Config}. A new detector is one {@code add} here; its state key is
 * its {@link Detector#name()}, so the order may change freely.
 */
public final class DetectorRegistry {

  /**
   * One detector: how to make it, its settings, and how to build its typed config (which checks
   * cross-field rules).
   */
  public record Entry(
      Supplier<Detector> factory, SettingsDef settings, Function<Settings, ?> config) {}

  private static final List<Entry> ALL = new ArrayList<>();

  static {
    // softmax_collapse
    add(
        SoftmaxAbsorptionDetector::new,
        SoftmaxAbsorptionDetector.SETTINGS,
        SoftmaxAbsorptionDetector.Config::from);
    // instability
    add(NonFiniteDetector::new, NonFiniteDetector.SETTINGS, NonFiniteDetector.Config::from);
    add(
        AttentionLogitGrowthDetector::new,
        AttentionLogitGrowthDetector.SETTINGS,
        AttentionLogitGrowthDetector.Config::from);
    add(
        AttentionEntropyCollapseDetector::new,
        AttentionEntropyCollapseDetector.SETTINGS,
        AttentionEntropyCollapseDetector.Config::from);
    add(
        OutputLogitDriftDetector::new,
        OutputLogitDriftDetector.SETTINGS,
        OutputLogitDriftDetector.Config::from);
    add(
        GradNormSpikeDetector::new,
        GradNormSpikeDetector.SETTINGS,
        GradNormSpikeDetector.Config::from);
    add(LossSpikeDetector::new, LossSpikeDetector.SETTINGS, LossSpikeDetector.Config::from);
    add(
        EdgeOfStabilityDetector::new,
        EdgeOfStabilityDetector.SETTINGS,
        EdgeOfStabilityDetector.Config::from);
    add(UpdateRatioDetector::new, UpdateRatioDetector.SETTINGS, UpdateRatioDetector.Config::from);
    add(
        LossScaleCollapseDetector::new,
        LossScaleCollapseDetector.SETTINGS,
        LossScaleCollapseDetector.Config::from);
    add(
        SuddenDivergenceDetector::new,
        SuddenDivergenceDetector.SETTINGS,
        SuddenDivergenceDetector.Config::from);
    add(DivergenceDetector::new, DivergenceDetector.SETTINGS, DivergenceDetector.Config::from);
    add(RunStalledDetector::new, RunStalledDetector.SETTINGS, RunStalledDetector.Config::from);
    // stability_gap
    add(OldTaskDropDetector::new, OldTaskDropDetector.SETTINGS, OldTaskDropDetector.Config::from);
  }

  private DetectorRegistry() {}

  private static void add(
      Supplier<Detector> factory, SettingsDef settings, Function<Settings, ?> config) {
    ALL.add(new Entry(factory, settings, config));
  }

  /** Fresh instances of all detectors, for one run. */
  public static List<Detector> newDetectors() {
    List<Detector> out = new ArrayList<>(ALL.size());
    for (Entry e : ALL) {
      out.add(e.factory().get());
    }
    return out;
  }

  /** Every registered detector with its declared settings. */
  public static List<Entry> entries() {
    return List.copyOf(ALL);
  }

  /** Every declared detector setting. */
  public static List<Setting<?>> settings() {
    List<Setting<?>> out = new ArrayList<>();
    ALL.forEach(e -> out.addAll(e.settings().settings()));
    return out;
  }

  /**
   * Fails on the first unknown key, unparsable or out-of-range value, or broken cross-field rule,
   * with a message that names the key as the user wrote it ({@code shownPrefix} + key, e.g. {@code
   * detector.} in job properties) and what is allowed.
   */
  public static void validate(Settings settings, String shownPrefix) {
    try {
      for (Map.Entry<String, String> kv : settings.asMap().entrySet()) {
        Setting<?> s = find(kv.getKey());
        if (s == null) {
          throw new ConfigException(unknown(kv.getKey()));
        }
        s.parse(kv.getValue());
      }
      for (Entry e : ALL) {
        e.config().apply(settings);
      }
    } catch (IllegalArgumentException e) {
      throw new ConfigException(
          shownPrefix.isEmpty()
              ? e.getMessage()
              : e.getMessage().replaceFirst("setting '", "setting '" + shownPrefix),
          e);
    }
  }

  private static Setting<?> find(String key) {
    for (Entry e : ALL) {
      for (Setting<?> s : e.settings().settings()) {
        if (s.key().equals(key)) {
          return s;
        }
      }
    }
    return null;
  }

  private static String unknown(String key) {
    for (Entry e : ALL) {
      String p = e.settings().prefix();
      if (key.startsWith(p)) {
        return "setting '"
            + key
            + "': unknown key; "
            + p.substring(0, p.length() - 1)
            + " takes "
            + String.join(
                ", ",
                e.settings().settings().stream().map(s -> s.key().substring(p.length())).toList())
            + " (docs/detectors.md)";
      }
    }
    return "setting '"
        + key
        + "': unknown key; detector settings start with one of "
        + String.join(", ", ALL.stream().map(e -> e.settings().prefix()).toList())
        + " (docs/detectors.md)";
  }
}
