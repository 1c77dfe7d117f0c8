package dev.trainwatch.jobs.detect.instability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.trainwatch.jobs.detect.Detector;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.LrPhase;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Checkpoint/restore: a detector restored from its state behaves exactly like the original. */
class InstabilityStateTest {

  @ParameterizedTest(name = "{0} cut at step {1}")
  @CsvSource({
    "lm-char-py-d128-w800-lr1e-1-s1, 390",
    "lm-char-py-d128-w800-lr1e-1-s1, 850",
    "mlp-digits-sgdr-s0, 1105",
    "cl-digits-ci-replay-s0, 610"
  })
  void restoredDetectorsEmitTheSameAlertsAsTheOriginals(String run, long cut) throws IOException {
    assumeTrue(Feed.tracesPresent(), "shared eval traces not found");
    List<TelemetryRecord> records = Feed.trace(run);
    List<Detector> original = InstabilityTraceTest.family();
    RunMonitor a = new RunMonitor(run, DetectorConfig.DEFAULTS, original);
    List<AlertEvent> ignored = new ArrayList<>();
    int i = 0;
    for (; i < records.size() && records.get(i).step() <= cut; i++) {
      a.observe(records.get(i), ignored::add);
    }
    List<Detector> restored = InstabilityTraceTest.family();
    for (int d = 0; d < original.size(); d++) {
      byte[] state = bytes(original.get(d));
      assertThat(state.length).as(original.get(d).name()).isLessThan(1024);
      restored.get(d).readState(new DataInputStream(new ByteArrayInputStream(state)));
      assertThat(bytes(restored.get(d))).as(original.get(d).name()).isEqualTo(state);
    }
    // RunContext (lr in force, checkpoint) travels with the monitor: restore it the same way.
    RunMonitor b = restoreWith(a, restored);
    List<AlertEvent> fromA = new ArrayList<>();
    List<AlertEvent> fromB = new ArrayList<>();
    for (; i < records.size(); i++) {
      a.observe(records.get(i), fromA::add);
      b.observe(records.get(i), fromB::add);
    }
    assertThat(fromB).isEqualTo(fromA);
  }

  private static byte[] bytes(Detector d) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    d.writeState(new DataOutputStream(buf));
    return buf.toByteArray();
  }

  /** A monitor with {@code a}'s context and run position, hosting the given restored detectors. */
  private static RunMonitor restoreWith(RunMonitor a, List<Detector> detectors) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    a.write(new DataOutputStream(buf));
    RunMonitor full =
        RunMonitor.read(
            DetectorConfig.DEFAULTS,
            new DataInputStream(new ByteArrayInputStream(buf.toByteArray())));
    // full hosts the registry's detectors (other families too); host exactly ours instead,
    // which were restored through writeState/readState directly above.
    full.detectors().clear();
    full.detectors().addAll(detectors);
    // the run's LR phase was restored into full's context: the detectors read that one
    for (Detector d : detectors) {
      if (d instanceof LrPhase.Reader reader) {
        reader.readPhaseOf(full.context().phase());
      }
    }
    return full;
  }
}
