package dev.trainwatch.jobs.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.ThresholdDetector;
import dev.trainwatch.jobs.detect.instability.RunStalledDetector;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.TelemetryBinary;
import dev.trainwatch.wire.TelemetryJson;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Operator-level tests: the per-run state always has a way out. */
class MonitorFunctionHarnessTest {

  private static final long IDLE_MS = 60_000;
  private static final long START = 1_000;
  private static final long HALF_IDLE_LATER = START + IDLE_MS / 2;
  private static final long TWO_IDLE_PERIODS_LATER = START + 2 * IDLE_MS + 1;

  private KeyedOneInputStreamOperatorTestHarness<String, RawTelemetry, AlertEvent> harness;

  @BeforeEach
  void setUp() throws Exception {
    MonitorFunction fn =
        new MonitorFunction(
            DetectorConfig.DEFAULTS, IDLE_MS, "t", () -> List.of(new ThresholdDetector()));
    harness =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new KeyedProcessOperator<>(fn), RawTelemetry::run, Types.STRING);
    harness.open();
    harness.setProcessingTime(START);
  }

  @AfterEach
  void tearDown() throws Exception {
    harness.close();
  }

  private void send(TelemetryRecord r) throws Exception {
    harness.processElement(
        new StreamRecord<>(new RawTelemetry(r.run(), TelemetryJson.toBytes(r), 0, r.step())));
  }

  private void send(String run, long step, double x) throws Exception {
    send(TelemetryRecord.of(run, step, Metrics.of(Map.of("x", x))));
  }

  private void end(String run, long step) throws Exception {
    send(new TelemetryRecord(run, step, -1, null, TelemetryRecord.RUN_END, null, null, null));
  }

  @Test
  void malformedRecordIsDeadLetteredWithTheReasonAndCreatesNoState() throws Exception {
    harness.processElement(
        new StreamRecord<>(new RawTelemetry("x", "{\"run\":\"x\",\"step\":-1}".getBytes(), 3, 42)));
    assertThat(harness.getSideOutput(MonitorFunction.DEAD_LETTERS))
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.getValue().reason())
                  .isEqualTo("field 'step': expected an integer >= 0, got -1");
              assertThat(d.getValue().origin()).isEqualTo("t-3@42");
            });
    assertThat(harness.numKeyedStateEntries()).isZero();
    assertThat(harness.extractOutputValues()).isEmpty();
  }

  @Test
  void binaryAndJsonRecordsOfARunAreOneRunAndDamagedBinaryIsDeadLettered() throws Exception {
    send("a", 1, 0); // JSON
    TelemetryRecord r = TelemetryRecord.of("a", 2, Metrics.of(Map.of("x", 0.0)));
    byte[] binary = TelemetryBinary.encode(r);
    harness.processElement(new StreamRecord<>(new RawTelemetry("a", binary, 0, 2)));
    end("a", 3); // JSON again: the run ends, whichever form its records came in
    assertThat(harness.numKeyedStateEntries()).isZero();
    assertThat(harness.getSideOutput(MonitorFunction.DEAD_LETTERS)).isNull();

    byte[] damaged = Arrays.copyOf(binary, binary.length - 3);
    harness.processElement(new StreamRecord<>(new RawTelemetry("a", damaged, 1, 7)));
    assertThat(harness.getSideOutput(MonitorFunction.DEAD_LETTERS))
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.getValue().reason()).startsWith("binary record: ");
              assertThat(d.getValue().run()).isEqualTo("a");
              assertThat(d.getValue().payload()).startsWith("base64:");
              assertThat(d.getValue().origin()).isEqualTo("t-1@7");
            });
    assertThat(harness.numKeyedStateEntries()).isZero();
  }

  @Test
  void stateIsDroppedWhenTheRunEnds() throws Exception {
    send("a", 1, 0);
    send("b", 1, 0);
    assertThat(harness.numKeyedStateEntries())
        .isEqualTo(2); // one entry per run: detectors and idle timer together
    assertThat(harness.numProcessingTimeTimers()).isEqualTo(2);
    end("a", 2);
    end("b", 2);
    assertThat(harness.numKeyedStateEntries()).isZero();
    assertThat(harness.numProcessingTimeTimers()).isZero();
  }

  @Test
  void idleRunIsDroppedAndItsAlertsResolved() throws Exception {
    send("a", 1, 5);
    assertThat(harness.extractOutputValues())
        .singleElement()
        .extracting(AlertEvent::status)
        .isEqualTo(Status.FIRING);
    harness.setProcessingTime(HALF_IDLE_LATER);
    assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
    harness.setProcessingTime(TWO_IDLE_PERIODS_LATER);
    assertThat(harness.numKeyedStateEntries()).isZero();
    assertThat(harness.numProcessingTimeTimers()).isZero();
    List<AlertEvent> out = harness.extractOutputValues();
    assertThat(out).hasSize(2);
    assertThat(out.get(1).status()).isEqualTo(Status.RESOLVED);
    assertThat(out.get(1).summary()).contains("idle");
  }

  @Test
  void activeRunKeepsOneTimerAndIsNotDropped() throws Exception {
    for (int s = 0; s < 100; s++) {
      harness.setProcessingTime(START + s * 1_000L);
      send("a", s, 0);
    }
    assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
    assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
  }

  @Test
  void stateSurvivesSnapshotAndRestore() throws Exception {
    send("a", 1, 5);
    var snapshot = harness.snapshot(1, 1);
    harness.close();
    MonitorFunction fn =
        new MonitorFunction(
            DetectorConfig.DEFAULTS, IDLE_MS, "t", () -> List.of(new ThresholdDetector()));
    harness =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new KeyedProcessOperator<>(fn), RawTelemetry::run, Types.STRING);
    harness.initializeState(snapshot);
    harness.open();
    assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
    send("a", 2, 0.5);
    // The restored monitor knows its alert is firing: a drop below 1 resolves it.
    // (Restored detectors come from the registry; the run-level tracking resolves at run end.)
    end("a", 3);
    assertThat(harness.extractOutputValues())
        .extracting(AlertEvent::status)
        .contains(Status.RESOLVED);
    assertThat(harness.numKeyedStateEntries()).isZero();
  }

  @Test
  void runsBeyondTheCapAreRefusedCountedAndAdmittedOnceAnotherEnds() throws Exception {
    harness.close();
    MonitorFunction fn =
        new MonitorFunction(
            DetectorConfig.DEFAULTS, IDLE_MS, "t", () -> List.of(new ThresholdDetector()), 2);
    harness =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new KeyedProcessOperator<>(fn), RawTelemetry::run, Types.STRING);
    harness.open();
    send("a", 1, 0);
    send("b", 1, 0);
    send("c", 1, 0);
    send("c", 2, 0);
    assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
    assertThat(harness.getSideOutput(MonitorFunction.DEAD_LETTERS))
        .hasSize(2)
        .allSatisfy(
            d -> {
              assertThat(d.getValue().run()).isEqualTo("c");
              assertThat(d.getValue().reason())
                  .isEqualTo(
                      "run refused: 2 active runs in this instance of the job "
                          + "(state.max-active-runs); a run is admitted once another ends or goes idle");
            });
    // the count survives a checkpoint and restore: still full
    var snapshot = harness.snapshot(1, 1);
    harness.close();
    harness =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new KeyedProcessOperator<>(
                new MonitorFunction(
                    DetectorConfig.DEFAULTS,
                    IDLE_MS,
                    "t",
                    () -> List.of(new ThresholdDetector()),
                    2)),
            RawTelemetry::run,
            Types.STRING);
    harness.initializeState(snapshot);
    harness.open();
    send("c", 3, 0);
    assertThat(harness.getSideOutput(MonitorFunction.DEAD_LETTERS)).hasSize(1);
    end("a", 2);
    send("c", 4, 0);
    assertThat(harness.getSideOutput(MonitorFunction.DEAD_LETTERS)).hasSize(1);
    assertThat(harness.numKeyedStateEntries()).isEqualTo(2); // b and c
  }

  @Test
  void aStalledRunAlertsAfterTwoMinutesResolvesOnResumeAndIsReportedStoppedAtTheIdleCutOff()
      throws Exception {
    harness.close();
    long idle = 1_800_000;
    harness =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new KeyedProcessOperator<>(
                new MonitorFunction(
                    DetectorConfig.DEFAULTS, idle, "t", () -> List.of(new RunStalledDetector()))),
            RawTelemetry::run,
            Types.STRING);
    harness.open();
    long t = START;
    for (int s = 0; s < 50; s++) { // a step a second
      harness.setProcessingTime(t += 1_000);
      send("a", s, 0);
    }
    assertThat(harness.numProcessingTimeTimers())
        .isEqualTo(1); // one timer per run, not one per record
    long last = t;
    harness.setProcessingTime(last + 119_000);
    assertThat(harness.extractOutputValues()).isEmpty();
    harness.setProcessingTime(last + 120_000);
    assertThat(harness.extractOutputValues())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.detector()).isEqualTo("run_stalled");
              assertThat(a.status()).isEqualTo(Status.FIRING);
              assertThat(a.step()).isEqualTo(49);
            });
    harness.setProcessingTime(last + 300_000);
    send("a", 50, 0); // the run comes back
    List<AlertEvent> out = harness.extractOutputValues();
    assertThat(out).hasSize(2);
    assertThat(out.get(1).status()).isEqualTo(Status.RESOLVED);
    assertThat(out.get(1).summary()).startsWith("steps resumed after 5.0 min");
    // then it vanishes without run_end: stalled, then stopped at the idle cut-off, state and timer
    // gone
    long back = last + 300_000;
    harness.setProcessingTime(back + idle - 1);
    assertThat(harness.extractOutputValues()).hasSize(3);
    assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
    harness.setProcessingTime(back + idle);
    out = harness.extractOutputValues();
    assertThat(out).hasSize(4);
    assertThat(out.get(2).status()).isEqualTo(Status.FIRING);
    assertThat(out.get(3).status()).isEqualTo(Status.RESOLVED);
    assertThat(out.get(3).evidence()).containsEntry("resolved_as", "stopped");
    assertThat(harness.numKeyedStateEntries()).isZero();
    assertThat(harness.numProcessingTimeTimers()).isZero();
  }

  @Test
  void anActiveRunsTimerFiresAboutOncePerIdlePeriodAndMovesWithIt() throws Exception {
    for (int s = 0; s < 200; s++) { // 200 s of a step a second against a 60 s idle timeout
      harness.setProcessingTime(START + s * 1_000L);
      send("a", s, 0);
      assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
    }
    assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
    harness.setProcessingTime(
        START + 199_000 + IDLE_MS); // exactly the idle timeout after the last step
    assertThat(harness.numKeyedStateEntries()).isZero();
    assertThat(harness.numProcessingTimeTimers()).isZero();
  }
}
