package dev.trainwatch.alerts.nflog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.alerts.Fixtures;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.model.Matcher;
import dev.trainwatch.alerts.silence.Silence;
import dev.trainwatch.wire.Family;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {

  @TempDir Path dir;

  @Test
  void restartRestoresAlertsLogAndSilencesAndSkipsATornLastLine() throws Exception {
    Alert a =
        Alert.from(
            Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10), null, Fixtures.START);
    Alert gone =
        Alert.from(
            Fixtures.warning("run-1", Family.INSTABILITY, "loss_spike", 10), null, Fixtures.START);
    NflogEntry sent = new NflogEntry("g", "r", Set.of(a.labelsHash()), Set.of(), 42, false);
    Silence s =
        new Silence(
            "s1",
            List.of(Matcher.parse("run=~\"run-.*\"")),
            Fixtures.START,
            Fixtures.START.plusSeconds(60),
            "me",
            "why");
    try (Journal j = Journal.open(dir)) {
      j.appendAlert(a);
      j.appendAlert(gone);
      j.appendGone(gone.fingerprint(), gone.source(), 10);
      new NotificationLog(j, List.of()).log(sent);
      j.appendSilence(s);
    }
    Files.writeString(
        dir.resolve("journal.jsonl"),
        "{\"k\":\"alert\",\"v\":{\"finger",
        StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);

    try (Journal j = Journal.open(dir)) {
      Journal.Snapshot r = j.restored();
      assertThat(r.alerts()).containsOnlyKeys(a.fingerprint());
      assertThat(r.alerts().get(a.fingerprint())).isEqualTo(a);
      assertThat(r.tombstones()).containsEntry(gone.source(), 10L);
      assertThat(r.nflog().values()).containsExactly(sent);
      assertThat(r.silences().get("s1")).isEqualTo(s);
    }
    // compacted on open: one line per live item
    assertThat(Files.readAllLines(dir.resolve("journal.jsonl"))).hasSize(4);
  }

  @Test
  void compactionKeepsOnlyTheCurrentStateAndAppendsContinueAfterIt() throws Exception {
    Alert a =
        Alert.from(
            Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10), null, Fixtures.START);
    NflogEntry sent = new NflogEntry("g", "r", Set.of(a.labelsHash()), Set.of(), 42, false);
    try (Journal j = Journal.open(dir)) {
      for (int i = 0; i < 10_001; i++) {
        j.appendAlert(a);
      }
      assertThat(j.needsCompaction(1)).isTrue();
      j.compact(
          () -> new Journal.Snapshot(Map.of(a.fingerprint(), a), Map.of(), Map.of(), Map.of()));
      assertThat(j.needsCompaction(1)).isFalse();
      new NotificationLog(j, List.of()).log(sent);
    }
    assertThat(Files.readAllLines(dir.resolve("journal.jsonl"))).hasSize(2);
    try (Journal j = Journal.open(dir)) {
      assertThat(j.restored().alerts()).containsOnlyKeys(a.fingerprint());
      assertThat(j.restored().nflog().values()).containsExactly(sent);
    }
  }

  @Test
  void dedupRuleFollowsAlertmanager() throws Exception {
    try (Journal j = Journal.open(dir)) {
      NotificationLog log = new NotificationLog(j, List.of());
      Duration repeat = Duration.ofHours(4);
      var t0 = Fixtures.START;
      assertThat(log.needsUpdate("g", "r", Set.of("a"), Set.of(), true, repeat, t0)).isTrue();
      assertThat(log.needsUpdate("g", "r", Set.of(), Set.of("a"), true, repeat, t0)).isFalse();
      log.log(new NflogEntry("g", "r", Set.of("a"), Set.of(), t0.toEpochMilli(), false));
      assertThat(log.needsUpdate("g", "r", Set.of("a"), Set.of(), true, repeat, t0.plusSeconds(60)))
          .isFalse();
      assertThat(log.needsUpdate("g", "r", Set.of("a", "b"), Set.of(), true, repeat, t0)).isTrue();
      assertThat(log.needsUpdate("g", "r", Set.of(), Set.of("a"), true, repeat, t0)).isTrue();
      assertThat(log.needsUpdate("g", "r", Set.of("a"), Set.of(), true, repeat, t0.plus(repeat)))
          .isTrue();
    }
  }
}
