package dev.trainwatch.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryJson;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DemoScenarioTest {

  private static List<TelemetryRecord> first(DemoRun run, int n) {
    List<TelemetryRecord> out = new ArrayList<>();
    while (run.hasNext() && out.size() < n) {
      out.add(run.next());
    }
    return out;
  }

  @Test
  void sameSeedGivesEqualRecords() {
    List<DemoRun> a = DemoScenario.standard(7, Trace.FIXED_CLOCK).runs();
    List<DemoRun> b = DemoScenario.standard(7, Trace.FIXED_CLOCK).runs();

    for (int i = 0; i < a.size(); i++) {
      assertThat(first(a.get(i), 60)).isEqualTo(first(b.get(i), 60));
    }
  }

  @Test
  void differentSeedsTrainDifferentModels() {
    DemoRun a = DemoScenario.standard(1, Trace.FIXED_CLOCK).runs().get(0);
    DemoRun b = DemoScenario.standard(2, Trace.FIXED_CLOCK).runs().get(0);

    assertThat(a.next().metrics().get("loss")).isNotEqualTo(b.next().metrics().get("loss"));
  }

  @Test
  void coversEveryFamilyWithUniqueRunNames() {
    List<DemoRun> runs = DemoScenario.standard(DemoScenario.DEFAULT_SEED, Trace.FIXED_CLOCK).runs();

    assertThat(runs).extracting(DemoRun::kind)
        .contains("softmax_collapse", "divergence", "stability_gap", "healthy");
    assertThat(runs).extracting(DemoRun::run).doesNotHaveDuplicates();
  }

  @Test
  void recordsRoundTripThroughTheWireFormat() {
    // the first 101 records of every run: run_start with tags, plain steps, logit samples at 0/50/100
    for (DemoRun run : DemoScenario.standard(DemoScenario.DEFAULT_SEED, Trace.FIXED_CLOCK).runs()) {
      first(run, 101).forEach(DemoScenarioTest::assertRoundTrips);
    }
  }

  @Test
  void continualLearningRecordsRoundTripWithTheirTaskEventsUpToRunEnd() {
    DemoRun cl = DemoScenario.standard(DemoScenario.DEFAULT_SEED, Trace.FIXED_CLOCK).runs().stream()
        .filter(r -> r.kind().equals("stability_gap")).findFirst().orElseThrow();

    Trace t = Trace.of(cl);
    t.records().forEach(DemoScenarioTest::assertRoundTrips);
    assertThat(t.records()).filteredOn(r -> r.event() != null).extracting(TelemetryRecord::event)
        .containsExactly(TelemetryRecord.RUN_START, TelemetryRecord.TASK_START, TelemetryRecord.TASK_START,
            TelemetryRecord.TASK_START, TelemetryRecord.RUN_END);
  }

  private static void assertRoundTrips(TelemetryRecord r) {
    ParseResult parsed = TelemetryParser.DEFAULT.parse(TelemetryJson.toBytes(r));
    assertThat(parsed).isInstanceOf(ParseResult.Parsed.class);
    TelemetryRecord back = ((ParseResult.Parsed) parsed).record();
    assertThat(back.run()).isEqualTo(r.run());
    assertThat(back.step()).isEqualTo(r.step());
    assertThat(back.timeMs()).isEqualTo(r.timeMs());
    assertThat(back.task()).isEqualTo(r.task());
    assertThat(back.event()).isEqualTo(r.event());
    assertThat(back.metrics()).isEqualTo(r.metrics());
    assertThat(back.tags()).isEqualTo(r.tags());
    assertSameFloat32Logits(back, r);
  }

  private static void assertSameFloat32Logits(TelemetryRecord back, TelemetryRecord sent) {
    if (sent.logits() == null) {
      assertThat(back.logits()).isNull();
      return;
    }
    assertThat(back.logits().labels()).isEqualTo(sent.logits().labels());
    for (int i = 0; i < sent.logits().size(); i++) {
      for (int j = 0; j < sent.logits().rows()[i].length; j++) {
        assertThat((float) back.logits().rows()[i][j]).isEqualTo((float) sent.logits().rows()[i][j]);
      }
    }
  }
}
