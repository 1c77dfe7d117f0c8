package dev.trainwatch.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SyntheticFleetTest {

  @Test
  void recordsAreValidWireRecordsWithTwentyMetricsRoundRobinOverRuns() {
    SyntheticFleet f = new SyntheticFleet(3, 1);
    List<String> runs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      byte[] json = f.nextJson(1000 + i);
      ParseResult r = TelemetryParser.DEFAULT.parse(json);
      assertThat(r).isInstanceOf(ParseResult.Parsed.class);
      TelemetryRecord rec = ((ParseResult.Parsed) r).record();
      assertThat(rec.metrics().size()).isEqualTo(SyntheticFleet.METRICS);
      runs.add(rec.run() + "@" + rec.step());
    }
    assertThat(runs)
        .containsExactly(
            "bench-run-0000@0",
            "bench-run-0001@0",
            "bench-run-0002@0",
            "bench-run-0000@1",
            "bench-run-0001@1",
            "bench-run-0002@1");
  }

  @Test
  void healthyFleetRaisesNoAlertButAPoisonedRecordDoes() {
    SyntheticFleet f = new SyntheticFleet(10, 1);
    List<Object> alerts = new ArrayList<>();
    Map<String, RunMonitor> monitors = new HashMap<>();
    for (int i = 0; i < 5000; i++) {
      TelemetryRecord r = i == 4999 ? f.poisoned(i) : f.next(i);
      monitors
          .computeIfAbsent(r.run(), k -> new RunMonitor(k, DetectorConfig.DEFAULTS))
          .observe(r, alerts::add);
    }
    assertThat(alerts).hasSize(1);
    assertThat(monitors.values()).allSatisfy(m -> assertThat(m.stateBytes()).isLessThan(8 * 1024));
  }

  @Test
  void wideFleetCarriesPerLayerMetricsStaysSilentAndKeepsStateIndependentOfTheLayerCount() {
    SyntheticFleet f = SyntheticFleet.wide(4, 1, 1000);
    assertThat(f.metrics()).isEqualTo(20 + 98 * 10);
    List<Object> alerts = new ArrayList<>();
    Map<String, RunMonitor> monitors = new HashMap<>();
    for (int i = 0; i < 400; i++) {
      TelemetryRecord r =
          ((ParseResult.Parsed) TelemetryParser.DEFAULT.parse(f.nextJson(i))).record();
      monitors
          .computeIfAbsent(r.run(), k -> new RunMonitor(k, DetectorConfig.DEFAULTS))
          .observe(r, alerts::add);
    }
    TelemetryRecord last =
        ((ParseResult.Parsed) TelemetryParser.DEFAULT.parse(f.nextJson(400))).record();
    assertThat(last.metrics().get("grad_norm/layer.97")).isPositive();
    assertThat(last.metrics().get("attn/max_logit/layer.3")).isBetween(5.0, 12.0);
    assertThat(alerts).isEmpty();
    SyntheticFleet narrow = new SyntheticFleet(4, 1);
    Map<String, RunMonitor> narrowMonitors = new HashMap<>();
    for (int i = 0; i < 400; i++) {
      TelemetryRecord r = narrow.next(i);
      narrowMonitors
          .computeIfAbsent(r.run(), k -> new RunMonitor(k, DetectorConfig.DEFAULTS))
          .observe(r, a -> {});
    }
    // per-layer metrics add no per-run state: the detectors keep scalars and bounded windows
    assertThat(monitors.get("bench-run-0000").stateBytes())
        .isEqualTo(narrowMonitors.get("bench-run-0000").stateBytes());
  }
}
