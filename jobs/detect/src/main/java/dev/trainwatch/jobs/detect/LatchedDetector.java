package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * A detector with one alert: its rule ({@link #judge}) returns a {@link Verdict} per record and
 * this class applies it to the {@link AlertLatch}, which emits only on a change, and persists the
 * latch in front of the rule's own state. The same split as Flink's state-machine example ({@code
 * State.transition(event)} returns the next state, the job applies it): the rule is arithmetic on
 * its state and the record, the alert lifecycle is here.
 *
 * <p>A new detector is a subclass with its settings ({@link SettingsDef}), {@link #judge}, and
 * {@link #writeRuleState}/{@link #readRuleState}; plus one line in {@link DetectorRegistry} and a
 * {@code ### <name>} section under its family's {@code ## <family>} in docs/detectors.md.
 */
public abstract class LatchedDetector extends ConfiguredDetector {

  private final String name;
  private final AlertLatch latch;
  private final int stateVersion;
  private final int oldestStateVersion;

  /** A detector whose state is in format version 1. */
  protected LatchedDetector(Family family, String name) {
    this(family, name, 1, 1);
  }

  /**
   * A detector whose state is in format {@code stateVersion} and which still reads the formats down
   * to {@code oldestStateVersion} ({@link #readRuleState} gets the version).
   */
  protected LatchedDetector(Family family, String name, int stateVersion, int oldestStateVersion) {
    this.name = name;
    this.latch = new AlertLatch(family, name);
    this.stateVersion = stateVersion;
    this.oldestStateVersion = oldestStateVersion;
  }

  @Override
  public final int stateVersion() {
    return stateVersion;
  }

  @Override
  public final int oldestStateVersion() {
    return oldestStateVersion;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final void observe(TelemetryRecord r, RunContext ctx, AlertSink out) {
    Verdict v = judge(r, ctx);
    if (v != Verdict.HOLD) {
      latch.apply(v, ctx, r.step(), r.timeMs(), out);
    }
  }

  /** This record's verdict; {@link Verdict#HOLD} (a constant) when the alert does not change. */
  protected abstract Verdict judge(TelemetryRecord r, RunContext ctx);

  /**
   * Applies a verdict reached outside {@link #judge} (a time-driven check, the end of a run), at
   * {@code step} and {@code timeMs}. A rule that can reach two verdicts on one record (a warning
   * and its escalation) is a plain {@link Detector} with an {@link AlertLatch} instead.
   */
  protected final void apply(Verdict v, RunContext ctx, long step, long timeMs, AlertSink out) {
    latch.apply(v, ctx, step, timeMs, out);
  }

  /** True while the alert fires. */
  protected final boolean firing() {
    return latch.isFiring();
  }

  /** The severity the alert fires at, null while it does not. */
  protected final Severity severity() {
    return latch.severity();
  }

  @Override
  public final void writeState(DataOutput out) throws IOException {
    latch.write(out);
    writeRuleState(out);
  }

  @Override
  public final void readState(DataInput in, int version) throws IOException {
    latch.read(in);
    readRuleState(in, version);
  }

  /** The rule's own state, after the latch's. */
  protected abstract void writeRuleState(DataOutput out) throws IOException;

  /** Reads what {@link #writeRuleState} wrote in format {@code version}. */
  protected abstract void readRuleState(DataInput in, int version) throws IOException;
}
