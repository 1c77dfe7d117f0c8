package dev.trainwatch.jobs.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainwatch.jobs.replay.ReplaySchedule.Entry;
import dev.trainwatch.jobs.replay.ReplaySchedule.Pace;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplayScheduleTest {

  private static String rec(String run, long step, long timeMs) {
    return "{\"run\":\""
        + run
        + "\",\"step\":"
        + step
        + ",\"metrics\":{\"loss\":1.0},\"time_ms\":"
        + timeMs
        + "}";
  }

  @Test
  void byTimeKeepsEachRunsGapsDividedBySpeedAndStartsAllRunsTogether() {
    List<String> a =
        List.of(rec("a", 1, 1_000_000), rec("a", 2, 1_002_000), rec("a", 3, 1_010_000));
    List<String> b =
        List.of(
            rec("b", 1, 5_000_000),
            "not json at all",
            rec("b", 2, 5_001_000),
            rec("b", 3, 5_000_500)); // a clock step backwards is sent right after the record before

    List<Entry> s = ReplaySchedule.of(List.of(a, b), new Pace.ByTime(2.0));

    assertThat(s)
        .extracting(Entry::atNanos)
        .containsExactly(0L, 0L, 0L, 500_000_000L, 500_000_000L, 1_000_000_000L, 5_000_000_000L);
    assertThat(s)
        .extracting(Entry::line)
        .containsExactly(a.get(0), b.get(0), b.get(1), b.get(2), b.get(3), a.get(1), a.get(2));
  }

  @Test
  void byRateInterleavesTheRunsAtTheGivenTotalRate() {
    List<String> a = List.of(rec("a", 1, 0), rec("a", 2, 0), rec("a", 3, 0));
    List<String> b = List.of(rec("b", 1, 0));

    List<Entry> s = ReplaySchedule.of(List.of(a, b), Pace.parse("4/s", 1));

    assertThat(s).extracting(Entry::line).containsExactly(a.get(0), b.get(0), a.get(1), a.get(2));
    assertThat(s)
        .extracting(Entry::atNanos)
        .containsExactly(0L, 250_000_000L, 500_000_000L, 750_000_000L);
  }

  @Test
  void paceIsTimeOrAPositiveRate() {
    assertThat(Pace.parse("time", 60)).isEqualTo(new Pace.ByTime(60));
    assertThat(Pace.parse("500", 1)).isEqualTo(new Pace.ByRate(500));
    assertThatThrownBy(() -> Pace.parse("fast", 1)).hasMessageContaining("--pace");
    assertThatThrownBy(() -> Pace.parse("0", 1)).hasMessageContaining("positive");
    assertThatThrownBy(() -> Pace.parse("time", 0)).hasMessageContaining("--speed");
  }
}
