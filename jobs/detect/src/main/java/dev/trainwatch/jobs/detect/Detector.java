package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * One detection rule over one run's telemetry, fed in step order. Plain Java, no Flink: the Flink
 * job hosts one {@link RunMonitor} per run in keyed state and calls it.
 *
 * <p>A detector keeps its per-run state in its own fields and persists exactly that state through
 * {@link #writeState}/{@link #readState}, so checkpoints stay small and explicit. Thresholds are
 * not state: they come from {@link RunContext#config()}, so a restart with new settings takes
 * effect on restored runs. Implementations must tolerate any metric being absent, NaN or infinite
 * on any step, and must never throw on telemetry.
 */
public interface Detector {

  /** Stable name, used as the alert's {@code detector} field and as the state key. */
  String name();

  /** Observes one record of the run; emits alert state changes (fire, escalate, resolve). */
  void observe(TelemetryRecord record, RunContext ctx, AlertSink out);

  /** The run ended: resolve what is still firing (the state is dropped afterwards). */
  default void onRunEnd(TelemetryRecord record, RunContext ctx, AlertSink out) {}

  void writeState(DataOutput out) throws IOException;

  void readState(DataInput in) throws IOException;
}
