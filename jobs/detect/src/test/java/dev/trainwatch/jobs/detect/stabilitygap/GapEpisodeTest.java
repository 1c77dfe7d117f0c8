package dev.trainwatch.jobs.detect.stabilitygap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.jobs.detect.stabilitygap.GapEpisode.Verdict;
import dev.trainwatch.wire.Severity;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GapEpisodeTest {

  private static final OldTaskDropDetector.Config C = OldTaskDropDetector.Config.DEFAULTS;

  /** Feeds accuracies at steps 100, 101, ... after a switch at 100 from a 0.95 baseline. */
  private static List<Verdict> run(double... accs) {
    GapEpisode e = new GapEpisode();
    e.open(100, 0.95, 0.0, C.warnDrop());
    Severity firing = null;
    List<Verdict> out = new ArrayList<>();
    for (int i = 0; i < accs.length; i++) {
      Verdict v = e.observe(100 + i, accs[i], C, firing);
      if (v == Verdict.WARNING) {
        firing = Severity.WARNING;
      } else if (v == Verdict.CRITICAL) {
        firing = Severity.CRITICAL;
      }
      out.add(v);
    }
    return out;
  }

  static List<Arguments> firstEvalAfterSwitch() {
    return List.of(
        Arguments.of("two-point wobble", 0.93, Verdict.NONE),
        Arguments.of("just under the warning drop", 0.86, Verdict.NONE),
        Arguments.of("the warning drop", 0.85, Verdict.WARNING),
        Arguments.of("deeper than warning, short of critical", 0.75, Verdict.WARNING),
        Arguments.of("the critical drop", 0.70, Verdict.CRITICAL),
        Arguments.of("half the accuracy gone", 0.45, Verdict.CRITICAL));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("firstEvalAfterSwitch")
  void classifiesTheDropBelowThePreSwitchLevel(String why, double acc, Verdict expected) {
    assertThat(run(acc)).containsExactly(expected);
  }

  @Test
  void escalatesAWarningWhenTheDropDeepens() {
    assertThat(run(0.84, 0.80, 0.65))
        .containsExactly(Verdict.WARNING, Verdict.NONE, Verdict.CRITICAL);
  }

  @Test
  void noisyEvalSetRaisesTheThresholdAboveTheFixedDrop() {
    GapEpisode e = new GapEpisode();
    e.open(100, 0.95, 0.04, 0.175);
    assertThat(e.observe(101, 0.83, C, null)).isEqualTo(Verdict.NONE);
    assertThat(e.observe(102, 0.77, C, null)).isEqualTo(Verdict.WARNING);
  }

  @Test
  void resolvesAsRecoveredOnlyAfterStayingNearThePreSwitchLevelForRecoverSteps() {
    double[] accs = new double[40];
    accs[0] = 0.60;
    for (int i = 1; i < accs.length; i++) {
      accs[i] = 0.93;
    }
    List<Verdict> v = run(accs);
    assertThat(v.get(0)).isEqualTo(Verdict.CRITICAL);
    assertThat(v.subList(1, 21)).containsOnly(Verdict.NONE);
    assertThat(v.get(21)).isEqualTo(Verdict.RECOVERED); // recovered from step 101, 20 steps later
  }

  @Test
  void aShortReboundDoesNotResolveSoTheAlertDoesNotFlap() {
    List<Verdict> v = run(0.60, 0.95, 0.94, 0.93, 0.94, 0.80, 0.55, 0.50);
    assertThat(v)
        .containsExactly(
            Verdict.CRITICAL,
            Verdict.NONE,
            Verdict.NONE,
            Verdict.NONE,
            Verdict.NONE,
            Verdict.NONE,
            Verdict.NONE,
            Verdict.NONE);
  }

  @Test
  void resolvesAsSettledWhenNoNewLowComesForSettleSteps() {
    double[] accs = new double[80];
    for (int i = 0; i < accs.length; i++) {
      accs[i] = i < 10 ? 0.95 - 0.05 * i : 0.60 + (i % 2) * 0.01; // falls to 0.50, settles at 0.60
    }
    List<Verdict> v = run(accs);
    int settled = v.indexOf(Verdict.SETTLED);
    assertThat(settled).isEqualTo(9 + (int) C.settleSteps());
  }

  @Test
  void expiresWithoutAlertWhenTheWindowPassesWithoutADrop() {
    GapEpisode e = new GapEpisode();
    e.open(100, 0.95, 0.0, C.warnDrop());
    assertThat(e.observe(150, 0.94, C, null)).isEqualTo(Verdict.NONE);
    assertThat(e.observe(100 + C.windowSteps() + 1, 0.80, C, null)).isEqualTo(Verdict.EXPIRED);
  }

  @Test
  void findsTheFirstStepOfTheClimbToTheSettledLevel() {
    GapEpisode e = new GapEpisode();
    e.open(100, 0.95, 0.0, C.warnDrop());
    double[] accs = {0.80, 0.50, 0.55, 0.63, 0.70, 0.71, 0.70, 0.72};
    for (int i = 0; i < accs.length; i++) {
      e.observe(101 + i, accs[i], C, Severity.CRITICAL);
    }
    assertThat(e.minStep).isEqualTo(102);
    assertThat(e.firstStepAtOrAbove(0.64, 0.02)).isEqualTo(104); // 0.63 is within 0.02 of 0.64
    assertThat(e.firstStepAtOrAbove(0.69, 0.02)).isEqualTo(105);
    assertThat(e.firstStepAtOrAbove(0.40, 0.02)).isEqualTo(102);
  }
}
