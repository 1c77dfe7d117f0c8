package dev.trainwatch.jobs.flink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/**
 * Issue 14 row 1: no record the validator accepts can make a run's state unwritable. Every field at
 * its limit, in 3-byte UTF-8 characters (the worst case for {@code writeUTF}'s 65,535-byte limit),
 * with alerts firing that name the longest task: the state serializes, restores to the same bytes,
 * and stays bounded.
 */
class RunStateLimitsTest {

  private static final TelemetryParser.Limits L = TelemetryParser.Limits.DEFAULT;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final char WIDE = '\u0800'; // 3 bytes in (modified) UTF-8

  private static String name(String prefix, int length) {
    return prefix + String.valueOf(WIDE).repeat(length - prefix.length());
  }

  /** Task names as long as an eval metric's name ({@code eval/acc/<task>}) allows. */
  private static String task(int i) {
    return name("t" + i + "-", L.maxNameLength() - "eval/acc/".length());
  }

  private static TelemetryRecord parse(Map<String, Object> fields) throws Exception {
    byte[] bytes = JSON.writeValueAsBytes(fields);
    ParseResult r = TelemetryParser.DEFAULT.parse(bytes);
    assertThat(r).as("accepted by the validator").isInstanceOf(ParseResult.Parsed.class);
    return ((ParseResult.Parsed) r).record();
  }

  @Test
  void everyFieldAtItsLimitStillCheckpointsAndRestores() throws Exception {
    String run = name("r-", L.maxNameLength());
    long step = L.maxStep() - 200;
    List<TelemetryRecord> records = new ArrayList<>();

    Map<String, Object> first = new LinkedHashMap<>();
    first.put("run", run);
    first.put("step", step);
    first.put("time_ms", L.maxStep());
    first.put("event", "run_start");
    first.put("task", task(0));
    Map<String, Object> tags = new LinkedHashMap<>();
    tags.put("dtype", String.valueOf(WIDE).repeat(L.maxTagValueLength()));
    for (int i = 1; i < L.maxTags(); i++) {
      tags.put(
          name("tag" + i + "-", L.maxNameLength()),
          String.valueOf(WIDE).repeat(L.maxTagValueLength()));
    }
    first.put("tags", tags);
    Map<String, Object> metrics = new LinkedHashMap<>();
    for (int t = 0; t < 40; t++) { // more tasks than the detector tracks (32)
      metrics.put("eval/acc/" + task(t), 0.95);
    }
    for (int i = metrics.size(); i < L.maxMetrics(); i++) {
      metrics.put(name("m" + i + "-", L.maxNameLength()), (double) i);
    }
    first.put("metrics", metrics);
    records.add(parse(first));

    // 30 evaluations of every task while training task 0, then a switch to task 1 and a collapse of
    // task 0
    for (int s = 1; s <= 60; s++) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("run", run);
      r.put("step", step + s);
      r.put("task", task(s <= 30 ? 0 : 1));
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("loss", s <= 50 ? 1.0 : 1e30);
      m.put("grad_norm", s <= 50 ? 1.0 : Double.POSITIVE_INFINITY);
      for (int t = 0; t < 40; t++) {
        m.put("eval/acc/" + task(t), s <= 30 || t != 0 ? 0.95 : 0.05);
      }
      r.put("metrics", m);
      records.add(parse(r));
    }
    Map<String, Object> last = new LinkedHashMap<>();
    last.put("run", run);
    last.put("step", L.maxStep());
    last.put("event", "checkpoint");
    records.add(parse(last));

    RunMonitor monitor = new RunMonitor(run, DetectorConfig.DEFAULTS);
    List<AlertEvent> alerts = new ArrayList<>();
    for (TelemetryRecord r : records) {
      monitor.observe(r, alerts::add);
    }
    assertThat(monitor.lastStep()).isEqualTo(L.maxStep());
    assertThat(monitor.activeAlerts())
        .as("alerts firing, one naming the longest task")
        .anySatisfy(a -> assertThat(a.affectedTask()).isEqualTo(task(0)));
    assertThat(alerts).allSatisfy(a -> assertThat(a.status()).isEqualTo(Status.FIRING));

    RunState state = new RunState(monitor, Long.MAX_VALUE);
    DataOutputSerializer out = new DataOutputSerializer(4096);
    RunStateSerializer.INSTANCE.serialize(state, out);
    byte[] bytes = out.getCopyOfBuffer();
    RunState restored = RunStateSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes));
    DataOutputSerializer again = new DataOutputSerializer(4096);
    RunStateSerializer.INSTANCE.serialize(restored, again);
    assertThat(again.getCopyOfBuffer()).isEqualTo(bytes);
    assertThat(restored.monitor.run()).isEqualTo(run);
    assertThat(restored.monitor.activeAlerts()).hasSameSizeAs(monitor.activeAlerts());
    assertThat(RunStateSerializer.INSTANCE.copy(state).monitor.lastStep()).isEqualTo(L.maxStep());
    // bounded: 32 tracked tasks of 247 wide characters, the dtype tag, the run, the alerts
    System.out.printf(
        Locale.ROOT, "run state with every field at its limit: %,d bytes%n", bytes.length);
    assertThat(bytes.length).isBetween(20_000, 256 * 1024);
  }
}
