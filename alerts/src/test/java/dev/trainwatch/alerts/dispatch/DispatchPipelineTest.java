package dev.trainwatch.alerts.dispatch;

import static dev.trainwatch.alerts.Fixtures.START;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.alerts.Fixtures;
import dev.trainwatch.alerts.config.AlertsConfig;
import dev.trainwatch.alerts.config.Receiver;
import dev.trainwatch.alerts.inhibit.Inhibitor;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.model.AlertLinks;
import dev.trainwatch.alerts.model.Matcher;
import dev.trainwatch.alerts.nflog.Journal;
import dev.trainwatch.alerts.nflog.NotificationLog;
import dev.trainwatch.alerts.notify.Backoff;
import dev.trainwatch.alerts.notify.DeliveryResult;
import dev.trainwatch.alerts.notify.Notification;
import dev.trainwatch.alerts.notify.NotificationPipeline;
import dev.trainwatch.alerts.notify.NotificationPipeline.Outcome;
import dev.trainwatch.alerts.notify.Notifier;
import dev.trainwatch.alerts.notify.RetryStage;
import dev.trainwatch.alerts.silence.Silence;
import dev.trainwatch.alerts.silence.Silences;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.DeadLetter;
import dev.trainwatch.wire.Family;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dispatcher + pipeline driven by plain instants: no sleeps, no threads. */
class DispatchPipelineTest {

  @TempDir Path dir;
  private Journal journal;
  private Dispatcher dispatcher;
  private NotificationPipeline pipeline;
  private Silences silences;
  private final List<Notification> sent = new ArrayList<>();
  private final List<Notification> forwarded = new ArrayList<>();
  private final List<DeadLetter> deadLetters = new ArrayList<>();
  private DeliveryResult answer = new DeliveryResult.Delivered(200);

  @BeforeEach
  void setUp() {
    // group_wait 30s, group_interval 5m, repeat_interval 4h (the defaults)
    AlertsConfig c = Fixtures.config("type: stdout", "");
    journal = Journal.open(dir);
    silences = new Silences(journal::appendSilence);
    dispatcher =
        new Dispatcher(
            RouteNode.of(c.route()),
            new Inhibitor(c.inhibitRules()),
            silences,
            new Dispatcher.StateSink() {
              public void put(Alert a) {
                journal.appendAlert(a);
              }

              public void gone(String fp, String source, long step) {
                journal.appendGone(fp, source, step);
              }
            },
            List.of("forward"),
            List.of("team", "project"));
    Notifier recording =
        new Notifier() {
          public DeliveryResult send(Notification n) {
            sent.add(n);
            return answer;
          }

          public byte[] body(Notification n) {
            return n.summaryLine().getBytes();
          }
        };
    Notifier forwarding =
        new Notifier() {
          public DeliveryResult send(Notification n) {
            forwarded.add(n);
            return new DeliveryResult.Delivered(200);
          }

          public byte[] body(Notification n) {
            return new byte[0];
          }
        };
    AlertsMetrics metrics = new AlertsMetrics();
    RetryStage retry =
        new RetryStage(
            c.retry(),
            new Backoff(c.retry(), () -> 0.5),
            InstantSource.fixed(START),
            d -> {},
            metrics);
    Map<String, Receiver> receivers = new LinkedHashMap<>(c.receivers());
    receivers.put(
        "forward",
        new Receiver.Alertmanager(
            "forward",
            "http://x",
            Duration.ofSeconds(1),
            null,
            null,
            true,
            Map.of(),
            Receiver.Mode.ALERTMANAGER,
            Duration.ofMinutes(1)));
    pipeline =
        new NotificationPipeline(
            receivers,
            Map.of("r", recording, "forward", forwarding),
            new NotificationLog(journal, List.of()),
            retry,
            deadLetters::add,
            metrics,
            "http://x",
            AlertLinks.NONE);
  }

  @AfterEach
  void close() throws Exception {
    journal.close();
  }

  /** The outcomes of the routed flushes due at {@code now} (forward flushes run, not listed). */
  private List<Outcome> tick(Instant now) throws Exception {
    List<Outcome> out = new ArrayList<>();
    for (Flush f : dispatcher.due(now)) {
      Outcome o = pipeline.run(f);
      if (!f.forward()) {
        out.add(o);
      }
      dispatcher.completed(f);
    }
    return out;
  }

  private void ingest(AlertEvent e, Instant now) {
    dispatcher.ingest(e, new SourceOffset("t", 0, 1), now);
  }

  @Test
  void groupsByRunAndFamilyAndWaitsGroupWaitBeforeTheFirstNotification() throws Exception {
    ingest(Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10), START);
    ingest(Fixtures.warning("run-1", Family.INSTABILITY, "loss_spike", 11), START.plusSeconds(5));
    ingest(Fixtures.warning("run-2", Family.INSTABILITY, "grad_norm", 10), START.plusSeconds(5));

    assertThat(tick(START.plusSeconds(29))).isEmpty();
    assertThat(tick(START.plusSeconds(30))).containsExactly(Outcome.DELIVERED);
    assertThat(sent).hasSize(1);
    assertThat(sent.get(0).alerts()).hasSize(2);
    assertThat(sent.get(0).groupLabels())
        .isEqualTo(Map.of("run", "run-1", "family", "instability"));
    assertThat(tick(START.plusSeconds(35))).containsExactly(Outcome.DELIVERED);
    assertThat(sent.get(1).groupLabels()).containsEntry("run", "run-2");
    assertThat(dispatcher.groupCount()).isEqualTo(2);
  }

  @Test
  void unchangedGroupIsNotResentUntilRepeatInterval() throws Exception {
    ingest(Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10), START);
    tick(START.plusSeconds(30));
    Instant t = START.plusSeconds(30);
    for (int i = 1; i < 48; i++) { // every group_interval (5m) for 3h55m
      assertThat(tick(t.plus(Duration.ofMinutes(5L * i)))).containsExactly(Outcome.DEDUPLICATED);
    }
    assertThat(tick(t.plus(Duration.ofMinutes(5L * 48)))).containsExactly(Outcome.DELIVERED);
    assertThat(sent).hasSize(2);
  }

  @Test
  void newAlertInAFlushedGroupIsSentAtTheNextGroupInterval() throws Exception {
    ingest(Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10), START);
    tick(START.plusSeconds(30));
    ingest(Fixtures.warning("run-1", Family.INSTABILITY, "loss_spike", 20), START.plusSeconds(60));

    assertThat(tick(START.plusSeconds(60))).isEmpty();
    assertThat(tick(START.plusSeconds(330))).containsExactly(Outcome.DELIVERED);
    assertThat(sent.get(1).alerts()).hasSize(2);
  }

  @Test
  void resolvedNotificationIsSentOnceAndStateReturnsToZero() throws Exception {
    AlertEvent w = Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10);
    ingest(w, START);
    tick(START.plusSeconds(30));
    ingest(Fixtures.resolved(w, 50), START.plusSeconds(40));

    assertThat(tick(START.plusSeconds(330))).containsExactly(Outcome.DELIVERED);
    assertThat(sent.get(1).status()).isEqualTo("resolved");
    assertThat(sent.get(1).alerts().get(0).resolved()).isTrue();
    assertThat(dispatcher.alertCount()).isZero();
    assertThat(dispatcher.groupCount()).isZero();
    // the same events redelivered by Kafka after a restart are old news
    ingest(w, START.plusSeconds(400));
    ingest(Fixtures.resolved(w, 50), START.plusSeconds(400));
    assertThat(dispatcher.groupCount()).isZero();
  }

  @Test
  void criticalInhibitsWarningsOfTheSameRunAndFamilyOnly() throws Exception {
    ingest(Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10), START);
    ingest(Fixtures.critical("run-1", Family.INSTABILITY, "loss_spike", 11), START);
    ingest(Fixtures.warning("run-1", Family.SOFTMAX_COLLAPSE, "softmax_margin", 12), START);

    tick(START.plusSeconds(30));

    assertThat(sent).hasSize(2);
    Notification instability =
        sent.stream()
            .filter(n -> n.groupLabels().get("family").equals("instability"))
            .findFirst()
            .orElseThrow();
    assertThat(instability.alerts())
        .extracting(a -> a.label("alertname"))
        .containsExactly("loss_spike");
    Notification softmax =
        sent.stream()
            .filter(n -> n.groupLabels().get("family").equals("softmax_collapse"))
            .findFirst()
            .orElseThrow();
    assertThat(softmax.alerts()).hasSize(1);
  }

  @Test
  void silencedAlertsAreNotNotifiedUntilTheSilenceEnds() throws Exception {
    silences.create(
        new Silence(
            "s1",
            List.of(Matcher.parse("run=\"run-1\"")),
            START,
            START.plusSeconds(100),
            "test",
            ""));
    ingest(Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10), START);

    assertThat(tick(START.plusSeconds(30))).containsExactly(Outcome.DEDUPLICATED);
    assertThat(sent).isEmpty();
    assertThat(tick(START.plusSeconds(330))).containsExactly(Outcome.DELIVERED);
    assertThat(sent).hasSize(1);
  }

  @Test
  void escalationResolvesTheWarningInTheNotificationThatCarriesTheCritical() throws Exception {
    AlertEvent w = Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10);
    AlertEvent c = Fixtures.critical("run-1", Family.INSTABILITY, "grad_norm", 20);
    ingest(w, START);
    tick(START.plusSeconds(30));
    ingest(c, START.plusSeconds(40));

    assertThat(tick(START.plusSeconds(330))).containsExactly(Outcome.DELIVERED);
    Notification n = sent.get(1);
    Alert warning =
        n.alerts().stream()
            .filter(a -> a.label("severity").equals("warning"))
            .findFirst()
            .orElseThrow();
    Alert critical =
        n.alerts().stream()
            .filter(a -> a.label("severity").equals("critical"))
            .findFirst()
            .orElseThrow();
    assertThat(warning.resolved()).isTrue();
    assertThat(warning.endsMs()).isEqualTo(critical.startsMs());
    assertThat(warning.annotations()).containsEntry(Alert.SUPERSEDED_BY, "critical");
    assertThat(critical.resolved()).isFalse();
    assertThat(critical.annotations()).containsEntry(Alert.ESCALATED_FROM, "warning");
    // one problem, two identities: the receiver can follow it by trainwatch_id
    assertThat(warning.fingerprint()).isNotEqualTo(critical.fingerprint());
    assertThat(warning.annotations().get(Alert.TRAINWATCH_ID))
        .isEqualTo(critical.annotations().get(Alert.TRAINWATCH_ID));

    ingest(Fixtures.resolved(c, 60), START.plusSeconds(400));
    assertThat(tick(START.plusSeconds(630))).containsExactly(Outcome.DELIVERED);
    assertThat(sent.get(2).status()).isEqualTo("resolved");
    assertThat(sent.get(2).alerts())
        .extracting(a -> a.label("severity"))
        .containsExactly("critical");
    assertThat(dispatcher.alertCount()).isZero();
    assertThat(dispatcher.groupCount()).isZero();
    // Kafka redelivering all three after a restart changes nothing
    ingest(w, START.plusSeconds(700));
    ingest(c, START.plusSeconds(700));
    ingest(Fixtures.resolved(c, 60), START.plusSeconds(700));
    assertThat(dispatcher.alertCount()).isZero();
  }

  @Test
  void inhibitedWarningThatResolvesIsNeverSentAsResolved() throws Exception {
    AlertEvent w = Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10);
    ingest(Fixtures.critical("run-1", Family.INSTABILITY, "loss_spike", 11), START);
    ingest(w, START);
    tick(START.plusSeconds(30));
    ingest(Fixtures.resolved(w, 40), START.plusSeconds(60));

    assertThat(tick(START.plusSeconds(330))).containsExactly(Outcome.DEDUPLICATED);
    assertThat(sent).hasSize(1);
    assertThat(sent.get(0).alerts())
        .extracting(a -> a.label("alertname"))
        .containsExactly("loss_spike");
  }

  @Test
  void alertSilencedAllAlongProducesNoResolvedButOneSeenFiringIsResolvedEvenIfSilencedSince()
      throws Exception {
    AlertEvent quiet = Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10);
    AlertEvent seen = Fixtures.warning("run-2", Family.INSTABILITY, "grad_norm", 10);
    silences.create(
        new Silence(
            "s1",
            List.of(Matcher.parse("run=\"run-1\"")),
            START,
            START.plusSeconds(3600),
            "test",
            ""));
    ingest(quiet, START);
    ingest(seen, START);
    tick(START.plusSeconds(30));
    assertThat(sent).hasSize(1);
    silences.create(
        new Silence(
            "s2",
            List.of(Matcher.parse("run=\"run-2\"")),
            START,
            START.plusSeconds(3600),
            "test",
            ""));
    ingest(Fixtures.resolved(quiet, 50), START.plusSeconds(60));
    ingest(Fixtures.resolved(seen, 50), START.plusSeconds(60));

    tick(START.plusSeconds(330));

    assertThat(sent).hasSize(2);
    assertThat(sent.get(1).groupLabels()).containsEntry("run", "run-2");
    assertThat(sent.get(1).status()).isEqualTo("resolved");
    assertThat(dispatcher.alertCount()).isZero();
  }

  @Test
  void forwardModeGetsEveryChangeAtOnceUnfilteredAndInOrder() throws Exception {
    silences.create(
        new Silence(
            "s1",
            List.of(Matcher.parse("run=\"run-1\"")),
            START,
            START.plusSeconds(3600),
            "test",
            ""));
    AlertEvent w = Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10);
    AlertEvent c = Fixtures.critical("run-1", Family.INSTABILITY, "grad_norm", 20);
    ingest(w, START);
    tick(START);
    ingest(c, START.plusSeconds(1));
    tick(START.plusSeconds(1));
    ingest(Fixtures.resolved(c, 30), START.plusSeconds(2));
    tick(START.plusSeconds(2));

    assertThat(forwarded).hasSize(3);
    assertThat(forwarded.get(0).alerts())
        .extracting(a -> a.label("severity") + (a.resolved() ? " resolved" : " firing"))
        .containsExactly("warning firing");
    assertThat(forwarded.get(1).alerts())
        .extracting(a -> a.label("severity") + (a.resolved() ? " resolved" : " firing"))
        .containsExactly("warning resolved", "critical firing");
    assertThat(forwarded.get(2).alerts())
        .extracting(a -> a.label("severity") + (a.resolved() ? " resolved" : " firing"))
        .containsExactly("critical resolved");
    assertThat(sent).isEmpty(); // the routed receiver: silenced
  }

  @Test
  void resendListsTheFiringAlertsTheReceiverWasToldAboutAndStillUnmuted() throws Exception {
    AlertEvent a = Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10);
    AlertEvent b = Fixtures.warning("run-1", Family.INSTABILITY, "loss_spike", 10);
    ingest(a, START);
    tick(START.plusSeconds(30));
    ingest(b, START.plusSeconds(40)); // not yet notified: not re-sent either

    List<Alert> again = dispatcher.stillFiring("r", gk -> sentFiring(gk), START.plusSeconds(60));

    assertThat(again).extracting(x -> x.label("alertname")).containsExactly("grad_norm");
    assertThat(dispatcher.stillFiring("forward", gk -> Set.of(), START.plusSeconds(60))).hasSize(2);
  }

  private Set<String> sentFiring(String groupKey) {
    return sent.stream()
        .filter(n -> n.groupKey().equals(groupKey))
        .reduce((x, y) -> y)
        .map(
            n ->
                n.alerts().stream()
                    .filter(x -> !x.resolved())
                    .map(Alert::fingerprint)
                    .collect(Collectors.toSet()))
        .orElse(Set.of());
  }

  @Test
  void allowListedRunTagsBecomeLabelsAndTheRestStayOut() throws Exception {
    AlertEvent w =
        Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10)
            .withTags(Map.of("team", "ml-infra", "model", "gpt2", "dtype", "bfloat16"));
    ingest(w, START);
    tick(START.plusSeconds(30));

    Alert a = sent.get(0).alerts().get(0);
    assertThat(a.labels())
        .containsEntry("team", "ml-infra")
        .doesNotContainKeys("model", "dtype", "project");
    // the resolution (carrying the tags or not, e.g. after a job restore) resolves the same
    // identity
    ingest(
        Fixtures.resolved(Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10), 50),
        START.plusSeconds(40));
    tick(START.plusSeconds(330));
    assertThat(sent.get(1).alerts().get(0).fingerprint()).isEqualTo(a.fingerprint());
    assertThat(dispatcher.alertCount()).isZero();
  }

  @Test
  void permanentFailureIsDeadLetteredOnceWithTheReason() throws Exception {
    answer = new DeliveryResult.Permanent("HTTP 400: bad payload");
    ingest(Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10), START);

    assertThat(tick(START.plusSeconds(30))).containsExactly(Outcome.DEAD_LETTERED);
    assertThat(deadLetters).hasSize(1);
    assertThat(deadLetters.get(0).reason()).contains("HTTP 400: bad payload");
    assertThat(deadLetters.get(0).run()).isEqualTo("run-1");
    assertThat(tick(START.plusSeconds(330))).containsExactly(Outcome.DEDUPLICATED);
  }
}
