package dev.trainwatch.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class AlertJsonTest {

  @Test
  void goldenAlertRoundTrips() {
    AlertEvent a = AlertJson.parse(Golden.alertFiring().getBytes(StandardCharsets.UTF_8));
    assertThat(a.family()).isEqualTo(Family.SOFTMAX_COLLAPSE);
    assertThat(a.severity()).isEqualTo(Severity.WARNING);
    assertThat(a.status()).isEqualTo(Status.FIRING);
    assertThat(a.evidence()).containsEntry("eta_steps", 180L).containsEntry("limit", 16.64);
    assertThat(AlertJson.parse(AlertJson.toBytes(a))).isEqualTo(a);
  }

  @Test
  void fingerprintIgnoresStepAndSeverityButNotAffectedTask() {
    AlertEvent w =
        AlertEvent.firing(
            "r", Family.STABILITY_GAP, "gap", Severity.WARNING, 10, -1, "s", null, Map.of(), "t0");
    AlertEvent c =
        AlertEvent.firing(
            "r", Family.STABILITY_GAP, "gap", Severity.CRITICAL, 99, -1, "s", null, Map.of(), "t0");
    AlertEvent other =
        AlertEvent.firing(
            "r", Family.STABILITY_GAP, "gap", Severity.WARNING, 10, -1, "s", null, Map.of(), "t1");
    assertThat(w.fingerprint()).isEqualTo(c.fingerprint()).hasSize(16);
    assertThat(other.fingerprint()).isNotEqualTo(w.fingerprint());
    assertThat(w.resolve(20, -1, "ok", Map.of()).fingerprint()).isEqualTo(w.fingerprint());
  }

  @Test
  void runTagsRoundTripCappedAndOutsideTheFingerprint() {
    Map<String, String> many = new TreeMap<>();
    for (int i = 0; i < 20; i++) {
      many.put("k" + (char) ('a' + i), "v".repeat(200));
    }
    AlertEvent plain =
        AlertEvent.firing(
            "r",
            Family.INSTABILITY,
            "loss_spike",
            Severity.WARNING,
            5,
            7,
            "s",
            "x",
            Map.of(),
            null);
    AlertEvent tagged = plain.withTags(many);

    assertThat(tagged.tags())
        .hasSize(AlertEvent.MAX_TAGS)
        .containsKey("ka")
        .doesNotContainKey("kt");
    assertThat(tagged.tags().get("ka")).hasSize(AlertEvent.MAX_TAG_VALUE);
    assertThat(tagged.fingerprint()).isEqualTo(plain.fingerprint());
    assertThat(AlertJson.parse(AlertJson.toBytes(tagged))).isEqualTo(tagged);
    assertThat(tagged.resolve(9, 9, "ok", Map.of()).tags()).isEqualTo(tagged.tags());
    assertThat(AlertJson.toJson(plain)).doesNotContain("tags");
  }

  @Test
  void writesNonFiniteEvidenceAsStrings() {
    AlertEvent a =
        AlertEvent.firing(
            "r",
            Family.INSTABILITY,
            "non_finite",
            Severity.CRITICAL,
            5,
            7,
            "NaN loss",
            "roll back",
            Map.of("loss", Double.NaN),
            null);
    String json = AlertJson.toJson(a);
    assertThat(json)
        .contains("\"loss\":\"NaN\"")
        .contains("\"time_ms\":7")
        .doesNotContain("affected_task");
  }

  @Test
  void parseNamesTheMissingField() {
    assertThatThrownBy(() -> AlertJson.parse("{\"run\":\"r\"}".getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("'family'");
  }
}
