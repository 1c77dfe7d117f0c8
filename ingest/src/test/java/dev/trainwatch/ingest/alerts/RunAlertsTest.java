package dev.trainwatch.ingest.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Severity;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RunAlertsTest {

  private static final AlertEvent NAN_R1 =
      AlertEvent.firing(
          "r1",
          Family.INSTABILITY,
          "non_finite",
          Severity.CRITICAL,
          30,
          1000,
          "non-finite loss",
          "roll back",
          Map.of(),
          null);

  private static void add(RunAlerts ra, AlertEvent a) {
    ra.add(a, AlertJson.toJson(a));
  }

  @Test
  void aFirstPollWithoutCursorAnswersAtOnceWithTheActiveAlerts() {
    RunAlerts ra = new RunAlerts("e1", 100);
    add(ra, NAN_R1);
    CompletableFuture<RunAlerts.Answer> f = ra.await("r1", null);
    assertThat(f).isDone();
    RunAlerts.Answer a = f.join();
    assertThat(a.cursor()).isEqualTo("e1-1");
    assertThat(a.active()).hasSize(1).first().asString().contains("\"detector\":\"non_finite\"");
    assertThat(a.events()).hasSize(1);
  }

  @Test
  void aWaitingPollIsAnsweredByTheNextEventOfItsRunOnly() throws Exception {
    RunAlerts ra = new RunAlerts("e1", 100);
    add(ra, NAN_R1);
    CompletableFuture<RunAlerts.Answer> f = ra.await("r1", "e1-1");
    assertThat(f).isNotDone();
    add(
        ra,
        AlertEvent.firing(
            "r2",
            Family.INSTABILITY,
            "loss_spike",
            Severity.WARNING,
            3,
            1,
            "s",
            "r",
            Map.of(),
            null));
    assertThat(f).isNotDone();
    add(ra, NAN_R1.resolve(80, 2000, "finite again", Map.of()));
    RunAlerts.Answer a = f.get(1, TimeUnit.SECONDS);
    assertThat(a.events()).extracting(RunAlerts.Entry::seq).containsExactly(3L);
    assertThat(a.active()).isEmpty();
    assertThat(a.cursor()).isEqualTo("e1-3");
  }

  @Test
  void anExpiredPollAnswersWithNoEventAndTheSameCursor() {
    RunAlerts ra = new RunAlerts("e1", 100);
    add(ra, NAN_R1);
    CompletableFuture<RunAlerts.Answer> f = ra.await("r1", "e1-1");
    ra.expire("r1", f);
    assertThat(f.join().events()).isEmpty();
    assertThat(f.join().active()).hasSize(1);
  }

  @Test
  void aCursorOfAnotherInstanceGetsEverythingAgain() {
    RunAlerts ra = new RunAlerts("e2", 100);
    add(ra, NAN_R1);
    add(ra, NAN_R1.resolve(80, 2000, "finite again", Map.of()));
    assertThat(ra.await("r1", "e1-57").join().events()).hasSize(2); // at least once after a restart
    assertThat(ra.await("r1", "garbage").join().events()).hasSize(2);
  }

  @Test
  void memoryIsBoundedPerRunAndInRuns() {
    RunAlerts ra = new RunAlerts("e1", 3);
    for (int i = 0; i < RunAlerts.EVENTS_PER_RUN + 10; i++) {
      add(
          ra,
          AlertEvent.firing(
              "r1",
              Family.INSTABILITY,
              "d" + (i % 2),
              Severity.WARNING,
              i,
              i,
              "s",
              "r",
              Map.of(),
              null));
    }
    assertThat(ra.since("r1", null).events()).hasSize(RunAlerts.EVENTS_PER_RUN);
    assertThat(ra.since("r1", null).active()).hasSize(2);
    for (int i = 0; i < 5; i++) {
      add(
          ra,
          AlertEvent.firing(
              "other" + i,
              Family.INSTABILITY,
              "d",
              Severity.WARNING,
              1,
              1,
              "s",
              "r",
              Map.of(),
              null));
    }
    assertThat(ra.runs()).isEqualTo(3);
    assertThat(ra.since("r1", null).events()).isEmpty(); // forgotten: least recently alerted
  }
}
