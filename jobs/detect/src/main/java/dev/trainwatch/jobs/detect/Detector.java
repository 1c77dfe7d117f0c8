package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * One detection rule over one run's telemetry, fed in step order. Plain Java, no Flink: the Flink
 * job hosts one {@link RunMonitor} per run in keyed state and calls it. Most detectors extend
 * {@link LatchedDetector} (one alert, a rule that returns a {@link Verdict}); a detector with
 * several alert identities (one per affected task) implements this directly with an {@link
 * AlertLatch} each.
 *
 * <p>A detector keeps its per-run state in its own fields and persists exactly that state through
 * {@link #writeState}/{@link #readState}, so checkpoints stay small and explicit. {@link
 * DetectorStates} frames it with the detector's name, {@link #stateVersion()} and length, and
 * rejects an unknown version or bytes the detector did not consume. Thresholds are not state: they
 * come from {@link RunContext#config()}, so a restart with new settings takes effect on restored
 * runs. Implementations must tolerate any metric being absent, NaN or infinite on any step, and
 * must never throw on telemetry.
 */
public interface Detector {

  /** Stable name, used as the alert's {@code detector} field and as the state key. */
  String name();

  /** Observes one record of the run; emits alert state changes (fire, escalate, resolve). */
  void observe(TelemetryRecord record, RunContext ctx, AlertSink out);

  /** The run ended: resolve what is still firing (the state is dropped afterwards). */
  default void onRunEnd(TelemetryRecord record, RunContext ctx, AlertSink out) {}

  /**
   * Format version of the bytes {@link #writeState} writes: raise it when the layout changes, and
   * keep reading the old layout in {@link #readState} down to {@link #oldestStateVersion()}.
   */
  default int stateVersion() {
    return 1;
  }

  /** The oldest format version {@link #readState} still reads. */
  default int oldestStateVersion() {
    return stateVersion();
  }

  void writeState(DataOutput out) throws IOException;

  /** Reads state written in format {@code version} (between the oldest and the current). */
  void readState(DataInput in, int version) throws IOException;

  /** Reads state in the current format (tests, copies within one build). */
  default void readState(DataInput in) throws IOException {
    readState(in, stateVersion());
  }
}
