package dev.trainwatch.jobs.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.Status;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shared parts of a rule: a verdict applied to a latch, and the hysteresis counters. */
class VerdictTest {

  private final RunContext ctx = new RunContext("r1", DetectorConfig.DEFAULTS);
  private final AlertLatch latch = new AlertLatch(Family.INSTABILITY, "test");
  private final List<AlertEvent> out = new ArrayList<>();

  private boolean apply(Verdict v, long step) {
    return latch.apply(v, ctx, step, -1, out::add);
  }

  @Test
  void theLatchEmitsOnlyOnAChange() {
    Evidence ev = Evidence.of().num("x", 2);
    assertThat(apply(Verdict.HOLD, 1)).isFalse();
    assertThat(apply(Verdict.resolve("nothing fires", ev), 2)).isFalse();
    assertThat(apply(Verdict.warning("x > 1", "lower x", ev), 3)).isTrue();
    assertThat(apply(Verdict.warning("x > 1", "lower x", ev), 4)).isFalse();
    assertThat(apply(Verdict.critical("x > 10", "lower x", ev), 5)).isTrue();
    assertThat(apply(Verdict.warning("x > 1", "lower x", ev), 6)).as("no downgrade").isFalse();
    assertThat(apply(Verdict.HOLD, 7)).isFalse();
    assertThat(apply(Verdict.resolve("x back", Evidence.of()), 8)).isTrue();
    assertThat(apply(Verdict.resolve("x back", Evidence.of()), 9)).isFalse();
    assertThat(out)
        .extracting(AlertEvent::status, AlertEvent::severity, AlertEvent::step)
        .containsExactly(
            tuple(Status.FIRING, Severity.WARNING, 3L),
            tuple(Status.FIRING, Severity.CRITICAL, 5L),
            tuple(Status.RESOLVED, Severity.CRITICAL, 8L));
  }

  @Test
  void holdIsOneConstant() {
    assertThat(Verdict.HOLD).isSameAs(Verdict.Hold.HOLD);
  }

  @Test
  void evidenceIsTyped() {
    assertThat(
            Evidence.of()
                .num("nan", Double.NaN)
                .finite("gone", Double.NaN)
                .finite("kept", 1.5)
                .count("step", 7)
                .text("none", null)
                .list("empty", List.of())
                .list("layers", List.of("h.0"))
                .flag("ok", true)
                .map())
        .containsOnlyKeys("nan", "kept", "step", "layers", "ok")
        .containsEntry("step", 7L);
  }

  @Test
  void hysteresisHoldsNInARowToFireAndMCalmInARowToResolve() {
    Hysteresis h = new Hysteresis();
    assertThat(h.fires(true, 3)).isFalse();
    assertThat(h.fires(false, 3)).as("a break starts over").isFalse();
    assertThat(h.fires(true, 3)).isFalse();
    assertThat(h.fires(true, 3)).isFalse();
    assertThat(h.fires(true, 3)).isTrue();
    assertThat(h.held()).as("fires starts the next episode at zero").isZero();
    assertThat(h.resolves(true, 2)).isFalse();
    h.unsettle();
    assertThat(h.calm()).isZero();
    assertThat(h.resolves(true, 2)).isFalse();
    assertThat(h.resolves(true, 2)).isTrue();
    assertThat(h.calm()).isZero();
  }
}
