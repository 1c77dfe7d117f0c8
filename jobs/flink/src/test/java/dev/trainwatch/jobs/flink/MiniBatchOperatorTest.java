package dev.trainwatch.jobs.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.ThresholdDetector;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.TelemetryJson;
import dev.trainwatch.wire.TelemetryRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

/** The mini-batch changes when the per-run function sees records, never what it sees. */
class MiniBatchOperatorTest {

  private static final long START = 1_000;
  private static final long IDLE_MS = 60_000;

  /** What the recording function saw, as "key:value@processingTime"; static: the function ships. */
  private static final List<String> SEEN = new CopyOnWriteArrayList<>();

  /** Records each element with the key it was handed under and the processing time. */
  static final class Recording extends KeyedProcessFunction<String, RawTelemetry, AlertEvent> {
    @Override
    public void processElement(RawTelemetry raw, Context ctx, Collector<AlertEvent> out) {
      String value = new String(raw.value(), StandardCharsets.UTF_8);
      SEEN.add(
          ctx.getCurrentKey() + ":" + value + "@" + ctx.timerService().currentProcessingTime());
    }
  }

  private static KeyedOneInputStreamOperatorTestHarness<String, RawTelemetry, AlertEvent> recording(
      int maxRecords, long maxDelayMs) throws Exception {
    SEEN.clear();
    var h =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new MiniBatchOperator(new Recording(), maxRecords, maxDelayMs),
            RawTelemetry::run,
            Types.STRING);
    h.open();
    h.setProcessingTime(START);
    return h;
  }

  /** Records named by their run's letter and a number: "a1" is run a's. */
  private static void send(
      KeyedOneInputStreamOperatorTestHarness<String, RawTelemetry, AlertEvent> h, String... values)
      throws Exception {
    for (String v : values) {
      byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
      h.processElement(new StreamRecord<>(new RawTelemetry(v.substring(0, 1), bytes, 0, 0)));
    }
  }

  @Test
  void aBatchIsHandedOnOnceItsRecordsHoldMaxBytes() throws Exception {
    try (var h = recording(4096, 1_000)) {
      String big = "a" + "x".repeat(MiniBatchOperator.MAX_BYTES / 2);
      send(h, big);
      assertThat(SEEN).isEmpty();
      send(h, "b" + big.substring(1));
      assertThat(SEEN).hasSize(2);
    }
  }

  @Test
  void aFullBatchIsHandedOnRunByRunEachRunsRecordsInArrivalOrder() throws Exception {
    try (var h = recording(5, 1_000)) {
      send(h, "a1", "b1", "a2", "c1");
      assertThat(SEEN).isEmpty();
      send(h, "b2");
      assertThat(SEEN)
          .containsExactly("a:a1@1000", "a:a2@1000", "b:b1@1000", "b:b2@1000", "c:c1@1000");
      send(h, "c2");
      assertThat(SEEN).hasSize(5); // the next batch has begun
    }
  }

  @Test
  void aRecordWaitsNoLongerThanTheMaxDelay() throws Exception {
    try (var h = recording(100, 20)) {
      send(h, "a1");
      h.setProcessingTime(START + 10);
      send(h, "b1");
      h.setProcessingTime(START + 19);
      assertThat(SEEN).isEmpty();
      h.setProcessingTime(START + 20); // 20 ms after the batch's first record
      assertThat(SEEN).containsExactly("a:a1@1020", "b:b1@1020");
      send(h, "a2");
      h.setProcessingTime(START + 39);
      assertThat(SEEN).hasSize(2);
      h.setProcessingTime(START + 40);
      assertThat(SEEN).endsWith("a:a2@1040");
    }
  }

  @Test
  void oneRecordBatchesHandEachRecordOnAtOnce() throws Exception {
    try (var h = recording(1, 1)) {
      send(h, "a1", "b1");
      assertThat(SEEN).containsExactly("a:a1@1000", "b:b1@1000");
      assertThat(h.getProcessingTimeService().getNumActiveTimers()).isZero();
    }
  }

  @Test
  void theEndOfABoundedInputHandsOnWhatIsBuffered() throws Exception {
    var h = recording(100, 1_000);
    send(h, "a1", "b1");
    h.close(); // finish(), as at the end of a bounded source
    assertThat(SEEN).containsExactly("a:a1@1000", "b:b1@1000");
  }

  // --- with the detectors' function: checkpoints and timers see every record before them ---

  private static KeyedOneInputStreamOperatorTestHarness<String, RawTelemetry, AlertEvent> monitor(
      int maxRecords, long maxDelayMs) throws Exception {
    MonitorFunction fn =
        new MonitorFunction(
            DetectorConfig.DEFAULTS, IDLE_MS, "t", () -> List.of(new ThresholdDetector()));
    var op =
        maxRecords == 0
            ? new KeyedProcessOperator<>(fn)
            : new MiniBatchOperator(fn, maxRecords, maxDelayMs);
    return new KeyedOneInputStreamOperatorTestHarness<>(op, RawTelemetry::run, Types.STRING);
  }

  private static void send(
      KeyedOneInputStreamOperatorTestHarness<String, RawTelemetry, AlertEvent> h,
      String run,
      long step,
      double x)
      throws Exception {
    TelemetryRecord r = TelemetryRecord.of(run, step, Metrics.of(Map.of("x", x)));
    h.processElement(new StreamRecord<>(new RawTelemetry(run, TelemetryJson.toBytes(r), 0, step)));
  }

  @Test
  void aCheckpointHoldsEveryRecordBeforeItsBarrier() throws Exception {
    OperatorSubtaskState snapshot;
    try (var h = monitor(100, 10_000)) {
      h.open();
      h.setProcessingTime(START);
      send(h, "a", 1, 5); // ThresholdDetector fires above its threshold
      send(h, "b", 1, 0);
      assertThat(h.numKeyedStateEntries()).isZero();
      h.prepareSnapshotPreBarrier(1);
      assertThat(h.numKeyedStateEntries()).isEqualTo(2);
      assertThat(h.extractOutputValues())
          .singleElement()
          .extracting(AlertEvent::run)
          .isEqualTo("a");
      snapshot = h.snapshot(1, START);
    }
    try (var restored = monitor(1, 1)) {
      restored.initializeState(snapshot);
      restored.open();
      assertThat(restored.numKeyedStateEntries()).isEqualTo(2);
    }
  }

  @Test
  void aRunsIdleCheckSeesTheRunsBufferedRecordFirst() throws Exception {
    try (var h = monitor(100, 5_000)) {
      h.open();
      h.setProcessingTime(START);
      send(h, "a", 1, 0);
      h.setProcessingTime(START + 5_000); // the first batch is handed on
      h.setProcessingTime(START + IDLE_MS + 4_000);
      send(h, "a", 2, 0); // buffered until START + IDLE + 9 s, after the run's idle check
      h.setProcessingTime(START + IDLE_MS + 5_000);
      // the idle check (due 60 s after the first record's hand-on) saw step 2: the run lives on
      assertThat(h.numKeyedStateEntries()).isEqualTo(1);
      assertThat(h.extractOutputValues()).isEmpty();
    }
  }

  @Test
  void runsSeeTheSameAlertsAsWithoutBatches() throws Exception {
    SplittableRandom random = new SplittableRandom(7);
    List<long[]> input = new ArrayList<>();
    long[] steps = new long[6];
    for (int i = 0; i < 3_000; i++) {
      int run = random.nextInt(steps.length);
      // bursts above the threshold so the detector fires and resolves many times in every run
      int draw = random.nextInt(10);
      double x = draw == 0 ? 20 : draw == 1 ? 5 : 0;
      input.add(new long[] {run, ++steps[run], (long) x});
    }
    Map<String, List<String>> plain = alertsPerRun(monitor(0, 1), input);
    Map<String, List<String>> batched = alertsPerRun(monitor(37, 1_000), input);
    assertThat(plain.values().stream().mapToInt(List::size).sum()).isGreaterThan(100);
    assertThat(batched).isEqualTo(plain);
  }

  private static Map<String, List<String>> alertsPerRun(
      KeyedOneInputStreamOperatorTestHarness<String, RawTelemetry, AlertEvent> h,
      List<long[]> input)
      throws Exception {
    try (h) {
      h.open();
      h.setProcessingTime(START);
      for (long[] r : input) {
        send(h, "run-" + r[0], r[1], r[2]);
      }
      h.prepareSnapshotPreBarrier(1);
      Map<String, List<String>> byRun = new LinkedHashMap<>();
      for (AlertEvent a : h.extractOutputValues()) {
        byRun
            .computeIfAbsent(a.run(), k -> new ArrayList<>())
            .add(a.status() + "@" + a.step() + " " + a.summary());
      }
      return new TreeMap<>(byRun);
    }
  }
}
