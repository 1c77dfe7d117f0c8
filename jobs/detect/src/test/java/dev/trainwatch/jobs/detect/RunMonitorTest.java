package dev.trainwatch.jobs.detect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.Tags;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

class RunMonitorTest {

  /** The run's LR phase, in the context since run-state format 4. */
  private static final int LR_PHASE_BYTES = 4 * 8 + 4 + 4 * 8 + 8 + 4 + 1;

  private final List<AlertEvent> alerts = new ArrayList<>();

  private static RunMonitor monitor() {
    return new RunMonitor("r1", DetectorConfig.DEFAULTS, List.of(new ThresholdDetector()));
  }

  private static TelemetryRecord x(long step, double x) {
    return TelemetryRecord.of("r1", step, Metrics.of(Map.of("x", x)));
  }

  @Test
  void firesOnceWhileTheConditionHoldsThenEscalatesThenResolves() {
    RunMonitor m = monitor();
    for (int s = 0; s < 5; s++) {
      m.observe(x(s, 2), alerts::add);
    }
    m.observe(x(5, 20), alerts::add);
    m.observe(x(6, 30), alerts::add);
    m.observe(x(7, 0.5), alerts::add);
    assertThat(alerts)
        .extracting(AlertEvent::status, AlertEvent::severity, AlertEvent::step)
        .containsExactly(
            Tuple.tuple(Status.FIRING, Severity.WARNING, 0L),
            Tuple.tuple(Status.FIRING, Severity.CRITICAL, 5L),
            Tuple.tuple(Status.RESOLVED, Severity.CRITICAL, 7L));
    assertThat(alerts)
        .extracting(AlertEvent::fingerprint)
        .containsOnly(alerts.get(0).fingerprint());
    assertThat(m.activeAlerts()).isEmpty();
  }

  @Test
  void ignoresDuplicateAndOutOfOrderSteps() {
    RunMonitor m = monitor();
    assertThat(m.observe(x(10, 0), alerts::add)).isTrue();
    assertThat(m.observe(x(10, 5), alerts::add)).isFalse();
    assertThat(m.observe(x(9, 5), alerts::add)).isFalse();
    assertThat(((ThresholdDetector) m.detectors().get(0)).seen()).isEqualTo(1);
    assertThat(alerts).isEmpty();
  }

  @Test
  void aRunStartBehindTheLastStepIsAResumeWhoseRepeatedStepsAreSeen() {
    // crashed after step 12, resumed from the checkpoint at 10: run_start at 11, then 11, 12, 13
    // again
    RunMonitor m = monitor();
    for (int s = 0; s <= 12; s++) {
      m.observe(x(s, 0), alerts::add);
    }
    TelemetryRecord resume =
        new TelemetryRecord(
            "r1",
            11,
            -1,
            null,
            TelemetryRecord.RUN_START,
            Metrics.of(Map.of("x", 0.0)),
            null,
            null);
    assertThat(m.observe(resume, alerts::add)).isTrue();
    assertThat(m.observe(x(12, 0), alerts::add)).isTrue();
    assertThat(m.observe(x(12, 0), alerts::add)).isFalse(); // a plain repeat is still a duplicate
    assertThat(m.observe(x(13, 0), alerts::add)).isTrue();
    assertThat(((ThresholdDetector) m.detectors().get(0)).seen()).isEqualTo(13 + 3);
    assertThat(m.lastStep()).isEqualTo(13);
  }

  @Test
  void resolvesEveryFiringAlertWhenTheRunEnds() {
    RunMonitor m = monitor();
    m.observe(x(1, 5), alerts::add);
    TelemetryRecord end =
        new TelemetryRecord("r1", 2, -1, null, TelemetryRecord.RUN_END, null, null, null);
    m.observe(end, alerts::add);
    assertThat(m.ended()).isTrue();
    assertThat(alerts).hasSize(2);
    assertThat(alerts.get(1).status()).isEqualTo(Status.RESOLVED);
    assertThat(alerts.get(1).summary()).isEqualTo("run ended");
    assertThat(alerts.get(1).fingerprint()).isEqualTo(alerts.get(0).fingerprint());
  }

  @Test
  void detectorFailureIsIsolatedFromTheOthers() {
    Detector broken =
        new Detector() {
          public String name() {
            return "broken";
          }

          public void observe(TelemetryRecord r, RunContext c, AlertSink o) {
            throw new IllegalStateException("bug");
          }

          public void writeState(DataOutput o) {}

          public void readState(DataInput i, int version) {}
        };
    ThresholdDetector ok = new ThresholdDetector();
    RunMonitor m = new RunMonitor("r1", DetectorConfig.DEFAULTS, List.of(broken, ok));
    m.observe(x(1, 5), alerts::add);
    m.observe(x(2, 5), alerts::add);
    assertThat(m.detectorFailures()).isEqualTo(2);
    assertThat(ok.seen()).isEqualTo(2);
    assertThat(alerts).hasSize(1);
  }

  @Test
  void restoredStateContinuesExactlyWhereItLeftOff() throws Exception {
    RunMonitor m = monitor();
    m.observe(x(1, 5), alerts::add);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    m.write(new DataOutputStream(bytes));
    RunMonitor restored =
        RunMonitor.read(
            DetectorConfig.DEFAULTS,
            new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())),
            () -> List.of(new ThresholdDetector()));
    assertThat(restored.run()).isEqualTo("r1");
    assertThat(restored.lastStep()).isEqualTo(1);
    assertThat(restored.activeAlerts()).hasSize(1);
    List<AlertEvent> after = new ArrayList<>();
    restored.observe(x(2, 6), after::add); // still warning: no new event
    restored.observe(x(3, 0), after::add);
    assertThat(after).singleElement().extracting(AlertEvent::status).isEqualTo(Status.RESOLVED);
    assertThat(m.stateBytes()).isLessThan(200 + LR_PHASE_BYTES);
  }

  @Test
  void contextKeepsDtypeLrAndLastCheckpoint() {
    RunMonitor m = monitor();
    m.observe(
        new TelemetryRecord(
            "r1",
            0,
            -1,
            null,
            null,
            Metrics.of(Map.of("lr", 0.1)),
            Tags.of(Map.of("dtype", "bfloat16")),
            null),
        alerts::add);
    m.observe(
        new TelemetryRecord("r1", 5, -1, null, TelemetryRecord.CHECKPOINT, null, null, null),
        alerts::add);
    m.observe(x(6, 0), alerts::add);
    assertThat(m.context().dtype()).isEqualTo("bfloat16");
    assertThat(m.context().lr()).isEqualTo(0.1);
    assertThat(m.context().rollbackHint()).contains("step 5");
  }

  @Test
  void alertsCarryTheRunsStickyTagsAcrossARestoreAndAVersion1StateStillReads() throws Exception {
    RunMonitor m = monitor();
    m.observe(
        new TelemetryRecord(
            "r1",
            0,
            -1,
            null,
            TelemetryRecord.RUN_START,
            Metrics.of(Map.of("x", 5.0)),
            Tags.of(Map.of("team", "ml-infra", "project", "lm")),
            null),
        alerts::add);
    m.observe(x(1, 20), alerts::add); // escalates on a record without tags
    assertThat(alerts)
        .hasSize(2)
        .allSatisfy(
            a -> assertThat(a.tags()).isEqualTo(Map.of("team", "ml-infra", "project", "lm")));

    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    m.write(new DataOutputStream(bytes));
    RunMonitor restored =
        RunMonitor.read(
            DetectorConfig.DEFAULTS,
            new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())),
            () -> List.of(new ThresholdDetector()));
    List<AlertEvent> after = new ArrayList<>();
    restored.observe(x(2, 0), after::add);
    assertThat(after)
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.status()).isEqualTo(Status.RESOLVED);
              assertThat(a.tags()).containsEntry("team", "ml-infra");
            });

    // the same state as version 1 wrote it: no tags section and no LR phase after the context,
    // and detector frames without a format version (read as each detector's version 1)
    RunMonitor plain = monitor();
    plain.observe(x(1, 5), alerts::add);
    ByteArrayOutputStream v2 = new ByteArrayOutputStream();
    plain.write(new DataOutputStream(v2));
    byte[] b = v2.toByteArray();
    int tagsAt =
        1
            + 2
            + "r1".length()
            + 8
            + 1
            + (1 + 8 + 8 + 1 + 8); // version, run, lastStep, ended, context
    assertThat(b[tagsAt]).isZero();
    // the threshold detector's frame ends the state: version byte, length, latch (9) + seen (8)
    int frameVersionAt = b.length - 17 - 4 - 1;
    assertThat(b[frameVersionAt]).isEqualTo((byte) 1);
    int framesAt = tagsAt + 1 + LR_PHASE_BYTES;
    byte[] v1 = new byte[b.length - 2 - LR_PHASE_BYTES];
    System.arraycopy(b, 0, v1, 0, tagsAt);
    System.arraycopy(b, framesAt, v1, tagsAt, frameVersionAt - framesAt);
    System.arraycopy(
        b,
        frameVersionAt + 1,
        v1,
        tagsAt + frameVersionAt - framesAt,
        b.length - frameVersionAt - 1);
    v1[0] = 1;
    RunMonitor old =
        RunMonitor.read(
            DetectorConfig.DEFAULTS,
            new DataInputStream(new ByteArrayInputStream(v1)),
            () -> List.of(new ThresholdDetector()));
    assertThat(old.lastStep()).isEqualTo(1);
    assertThat(old.activeAlerts()).hasSize(1);
    assertThat(old.context().tags()).isEmpty();
  }
}
