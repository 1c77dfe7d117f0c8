package dev.trainwatch.jobs.detect;

import java.util.function.Function;

/**
 * A detector that reads typed settings: {@link #config} resolves them through {@link
 * DetectorConfig#get} only when the run's configuration object changes (a restore, a new job), and
 * keeps them in two fields of this object, which every record touches anyway. Asking the shared map
 * on every record, once per detector, was about a tenth of the Flink job's keyed operator (14
 * lookups a record). The two fields are not state: they are not written to checkpoints.
 */
public abstract class ConfiguredDetector implements Detector {

  private DetectorConfig configOf;
  private Object config;

  /** The settings in effect for this run, as the detector's {@code Config} record. */
  @SuppressWarnings("unchecked")
  protected final <C> C config(RunContext ctx, Class<C> type, Function<Settings, C> from) {
    DetectorConfig current = ctx.config();
    if (current != configOf) {
      config = current.get(type, from);
      configOf = current;
    }
    return (C) config;
  }
}
