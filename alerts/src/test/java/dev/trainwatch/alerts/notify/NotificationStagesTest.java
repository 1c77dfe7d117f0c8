package dev.trainwatch.alerts.notify;

import static dev.trainwatch.alerts.Fixtures.START;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainwatch.alerts.Fixtures;
import dev.trainwatch.alerts.config.AlertsConfig.Route;
import dev.trainwatch.alerts.config.Receiver;
import dev.trainwatch.alerts.dispatch.Flush;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.metrics.AlertsMetrics.Counter;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.model.AlertLinks;
import dev.trainwatch.alerts.nflog.Journal;
import dev.trainwatch.alerts.nflog.NflogEntry;
import dev.trainwatch.alerts.nflog.NotificationLog;
import dev.trainwatch.alerts.notify.NotificationPipeline.Outcome;
import dev.trainwatch.alerts.notify.Stage.Step;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.DeadLetter;
import dev.trainwatch.wire.Family;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each stage alone, with a real notification log; the composition is DispatchPipelineTest's. */
class NotificationStagesTest {

  private static final Route ROUTE =
      new Route(
          "team",
          List.of(),
          List.of("run"),
          Duration.ofSeconds(30),
          Duration.ofMinutes(5),
          Duration.ofHours(4),
          false,
          List.of());
  private static final Receiver TEAM = new Receiver.Stdout("team", true);
  private static final Receiver QUIET = new Receiver.Stdout("team", false);
  private static final AlertEvent GRAD = Fixtures.warning("run-1", Family.INSTABILITY, "grad", 10);
  private static final Alert FIRING = Alert.from(GRAD, null, START);
  private static final Alert RESOLVED = Alert.from(Fixtures.resolved(GRAD, 50), FIRING, START);
  private static final Alert OTHER =
      Alert.from(Fixtures.warning("run-1", Family.INSTABILITY, "loss", 11), null, START);

  @TempDir Path dir;
  private Journal journal;
  private NotificationLog nflog;
  private final AlertsMetrics metrics = new AlertsMetrics();

  @BeforeEach
  void open() {
    journal = Journal.open(dir);
    nflog = new NotificationLog(journal, List.of());
  }

  @AfterEach
  void close() throws Exception {
    journal.close();
  }

  private static Flush flush(boolean forward, Alert... alerts) {
    return new Flush(
        "g1",
        ROUTE,
        Map.of("run", "run-1"),
        List.of(alerts),
        List.of(alerts),
        List.of(),
        START,
        forward);
  }

  private static Delivery next(Step s) {
    assertThat(s).isInstanceOf(Step.Next.class);
    return ((Step.Next) s).delivery();
  }

  private void logged(Alert... firing) {
    Set<String> hashes = new TreeSet<>();
    for (Alert a : firing) {
      hashes.add(a.labelsHash());
    }
    nflog.log(new NflogEntry("g1", "team", hashes, Set.of(), START.toEpochMilli(), false));
  }

  @Test
  void selectDropsAResolvedAlertTheReceiverNeverSawFiring() {
    Delivery d = next(new SelectStage(nflog).exec(Delivery.of(flush(false, RESOLVED), TEAM)));
    assertThat(d.alerts()).isEmpty();
    assertThat(d.entry().resolved()).isEmpty();
  }

  @Test
  void selectKeepsResolvedOutOfTheSendButInTheEntryWhenSendResolvedIsOff() {
    logged(FIRING);
    Delivery d =
        next(new SelectStage(nflog).exec(Delivery.of(flush(false, RESOLVED, OTHER), QUIET)));
    assertThat(d.alerts()).containsExactly(OTHER);
    assertThat(d.entry().resolved()).containsExactly(RESOLVED.labelsHash());
    assertThat(d.entry().firing()).containsExactly(OTHER.labelsHash());
  }

  @Test
  void selectForwardsEveryChangeWithoutAnEntry() {
    Delivery d = next(new SelectStage(nflog).exec(Delivery.of(flush(true, RESOLVED), TEAM)));
    assertThat(d.alerts()).containsExactly(RESOLVED);
    assertThat(d.entry()).isNull();
  }

  @Test
  void dedupEndsAnUnchangedGroupWithinTheRepeatIntervalAndCountsIt() throws Exception {
    logged(FIRING);
    Stage stages = Stage.sequence(new SelectStage(nflog), new DedupStage(nflog, metrics));
    assertThat(stages.run(Delivery.of(flush(false, FIRING), TEAM))).isEqualTo(Outcome.DEDUPLICATED);
    assertThat(metrics.get(Counter.SUPPRESSED, "team")).isEqualTo(1);
  }

  @Test
  void dedupPassesNewsAndRecordsWhenNothingIsLeftToSend() throws Exception {
    Delivery news = next(new SelectStage(nflog).exec(Delivery.of(flush(false, FIRING), TEAM)));
    assertThat(new DedupStage(nflog, metrics).exec(news)).isInstanceOf(Step.Next.class);

    logged(FIRING);
    Delivery allResolved =
        next(new SelectStage(nflog).exec(Delivery.of(flush(false, RESOLVED), QUIET)));
    assertThat(new DedupStage(nflog, metrics).exec(allResolved))
        .isEqualTo(Stage.done(Outcome.DEDUPLICATED));
    assertThat(nflog.get("g1", "team").orElseThrow().firing()).isEmpty();
  }

  @Test
  void recordWritesTheLogOnlyAfterDelivery() throws Exception {
    List<DeadLetter> dead = new ArrayList<>();
    RecordStage record = new RecordStage(nflog, Map.of(), dead::add, metrics);
    Delivery d =
        next(new SelectStage(nflog).exec(Delivery.of(flush(false, FIRING), TEAM)))
            .sent(null, new DeliveryResult.Delivered(200));

    assertThat(record.exec(d)).isEqualTo(Stage.done(Outcome.DELIVERED));
    assertThat(nflog.get("g1", "team"))
        .hasValueSatisfying(e -> assertThat(e.deadLettered()).isFalse());
    assertThat(dead).isEmpty();
  }

  @Test
  void recordDeadLettersAPermanentFailureThenLogsItAsDeadLettered() throws Exception {
    List<DeadLetter> dead = new ArrayList<>();
    Notifier stdout = new LocalNotifiers.StdoutNotifier(System.out);
    RecordStage record = new RecordStage(nflog, Map.of("team", stdout), dead::add, metrics);
    Delivery selected = next(new SelectStage(nflog).exec(Delivery.of(flush(false, FIRING), TEAM)));
    Notification n =
        new Notification(
            "g1", "team", Map.of("run", "run-1"), List.of(FIRING), "", AlertLinks.NONE, START);
    Delivery failed = selected.sent(n, new DeliveryResult.Permanent("HTTP 400"));

    assertThat(record.exec(failed)).isEqualTo(Stage.done(Outcome.DEAD_LETTERED));
    assertThat(dead).singleElement().satisfies(l -> assertThat(l.reason()).contains("HTTP 400"));
    assertThat(nflog.get("g1", "team"))
        .hasValueSatisfying(e -> assertThat(e.deadLettered()).isTrue());
    assertThat(metrics.get(Counter.DEAD_LETTERED, "team")).isEqualTo(1);
  }

  @Test
  void aDeadLetterThatCannotBeWrittenLeavesTheLogUntouched() {
    RecordStage record =
        new RecordStage(
            nflog,
            Map.of("team", new LocalNotifiers.StdoutNotifier(System.out)),
            d -> {
              throw new IllegalStateException("broker down");
            },
            metrics);
    Delivery selected = next(new SelectStage(nflog).exec(Delivery.of(flush(false, FIRING), TEAM)));
    Notification n =
        new Notification(
            "g1", "team", Map.of("run", "run-1"), List.of(FIRING), "", AlertLinks.NONE, START);

    assertThatThrownBy(() -> record.exec(selected.sent(n, new DeliveryResult.Permanent("x"))))
        .hasMessage("broker down");
    assertThat(nflog.get("g1", "team")).isEmpty();
  }

  @Test
  void aSequenceThatNeverEndsIsABug() {
    assertThatThrownBy(() -> Stage.sequence(Stage::next).run(Delivery.of(flush(false), TEAM)))
        .isInstanceOf(IllegalStateException.class);
  }
}
