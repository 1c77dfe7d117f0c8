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
      assertThat(first(a.get(i), 120)).isEqualTo(first(b.get(i), 120));
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
  void everyRecordRoundTripsThroughTheWireFormat() {
    for (DemoRun run : DemoScenario.standard(DemoScenario.DEFAULT_SEED, Trace.FIXED_CLOCK).runs()) {
      int steps = run.steps();
      Trace t = Trace.of(run);
      assertThat(t.records()).hasSize(steps);
      assertThat(t.records().get(0).event()).isEqualTo(TelemetryRecord.RUN_START);
      assertThat(t.records().get(0).tags().get("dtype")).isEqualTo("float32");
      assertThat(t.records().get(0).tags().get("model")).isNotBlank();
      assertThat(t.records().get(0).tags().get("optimizer")).isNotBlank();
      assertThat(t.records().get(1).tags().size()).isZero();
      assertThat(t.records().get(steps - 1).event()).isEqualTo(TelemetryRecord.RUN_END);
      for (TelemetryRecord r : t.records()) {
        ParseResult parsed = TelemetryParser.DEFAULT.parse(TelemetryJson.toBytes(r));
        assertThat(parsed).isInstanceOf(ParseResult.Parsed.class);
        TelemetryRecord back = ((ParseResult.Parsed) parsed).record();
        assertThat(back.metrics()).isEqualTo(r.metrics());
        assertThat(back.tags()).isEqualTo(r.tags());
        assertThat(back.step()).isEqualTo(r.step());
        assertThat(back.task()).isEqualTo(r.task());
        assertThat(back.event()).isEqualTo(r.event());
        assertThat(back.timeMs()).isEqualTo(r.timeMs());
        assertSameFloat32Logits(back, r);
      }
    }
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
