package dev.trainwatch.jobs.detect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Warmup, restarts and task switches as the spike and divergence baselines see them. */
class LrPhaseTest {

  private static TelemetryRecord rec(long step, Object... kv) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], ((Number) kv[i + 1]).doubleValue());
    }
    return TelemetryRecord.of("r", step, Metrics.of(m));
  }

  @ParameterizedTest(name = "lr {0} -> {1} after peak {2}: restart {3}")
  @CsvSource({
    "0.001, 0.002, 0.001, false", // linear warmup doubling early on: never decayed
    "0.0002, 0.003, 0.003, true", // SGDR: decayed 15x, jumps back to the peak
    "0.0015, 0.003, 0.003, true", // decayed exactly 2x, jumps 2x
    "0.002, 0.003, 0.003, true", // decayed 1.5x, back up 1.5x: a short-period warm restart
    "0.0025, 0.003, 0.003, false", // a 1.2x bump after a short decay: noise, not a restart
    "0.003, 0.006, 0.003, false", // a new high (2x after 2 reports): not a restart
    "0.003, 0.003, 0.003, false"
  }) // constant
  void restartIsALargeJumpAfterADecay(double prev, double next, double peak, boolean restart) {
    LrPhase p = new LrPhase();
    p.update(rec(0, "lr", peak));
    p.update(rec(1, "lr", prev));
    assertThat(p.update(rec(2, "lr", next))).isEqualTo(restart);
  }

  @Test
  void quietWhileTheLrRampsAndForTheSettlePeriodAfterIt() {
    LrPhase p = new LrPhase();
    for (int s = 0; s <= 300; s++) {
      p.update(rec(s, "lr", 1e-3 * Math.min(1, (s + 1) / 200.0)));
    }
    assertThat(p.quiet(150, 100, 50)).isTrue();
    assertThat(p.quiet(240, 100, 50)).isTrue();
    assertThat(p.quiet(260, 100, 50)).isFalse();
    assertThat(p.settling(150, 100, 50)).isFalse(); // divergence does not wait for warmup
  }

  @Test
  void aTaskSwitchRebaselines() {
    LrPhase p = new LrPhase();
    assertThat(p.update(withTask(0, "t0"))).isFalse();
    assertThat(p.update(withTask(1, "t0"))).isFalse();
    assertThat(p.update(withTask(2, "t1"))).isTrue();
    assertThat(p.settling(30, 0, 50)).isTrue();
  }

  @Test
  void aOneStepRiseToANewHighAfterAFlatStretchIsAJumpAndKeepsTheDetectorsListening() {
    LrPhase p = new LrPhase();
    for (int s = 0; s < 300; s++) {
      p.update(rec(s, "lr", s < 200 ? 0.05 : 0.5));
      assertThat(p.jumpedAt(s)).isEqualTo(s == 200);
    }
    assertThat(p.jumpFrom()).isEqualTo(0.05);
    assertThat(p.quiet(210, 100, 50)).isFalse(); // the blow-up after a jump must be seen
  }

  @Test
  void aCyclicLrRebaselinesOncePerRiseAndCosineToZeroRestartsToo() {
    LrPhase p = new LrPhase();
    int resets = 0;
    for (int s = 0; s < 1000; s++) { // triangular, 1e-3..6e-3, half-cycle 100 steps
      long t = s % 200;
      double lr = 1e-3 + 5e-3 * (t < 100 ? t / 100.0 : (200 - t) / 100.0);
      resets += p.update(rec(s, "lr", lr)) ? 1 : 0;
    }
    assertThat(resets).isEqualTo(4); // the rises of cycles 2..5
    LrPhase q = new LrPhase();
    int restarts = 0;
    for (int s = 0; s < 300; s++) { // cosine to exactly 0, period 100
      restarts +=
          q.update(rec(s, "lr", 0.1 * (0.5 + 0.5 * Math.cos(Math.PI * (s % 100) / 99.0)))) ? 1 : 0;
    }
    assertThat(restarts).isEqualTo(2);
  }

  private static TelemetryRecord withTask(long step, String task) {
    return new TelemetryRecord(
        "r", step, -1, task, null, rec(step, "loss", 1.0).metrics(), null, null);
  }
}
