package dev.trainwatch.alerts.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.alerts.Fixtures;
import dev.trainwatch.alerts.config.AlertsConfig.Links;
import dev.trainwatch.alerts.config.ConfigLoader;
import dev.trainwatch.alerts.notify.Notification;
import dev.trainwatch.alerts.notify.Payloads;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Severity;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Payload links checked against what is provisioned: the run dashboard and the detector docs. */
class AlertLinksTest {

  private static final Path RUN_DASHBOARD = Path.of("..", "grafana", "dashboards", "run.json");
  private static final Path DETECTOR_DOCS = Path.of("..", "docs", "detectors.md");
  private final AlertLinks links =
      new AlertLinks(
          ConfigLoader.parse(
                  """
      route: {receiver: c}
      receivers: [{name: c, type: stdout}]
      links: {grafana_url: 'https://grafana.example/', docs_url: 'https://docs.example/detectors.md'}
      """,
                  Map.of())
              .links());

  private static Map<String, String> query(URI u) {
    Map<String, String> out = new HashMap<>();
    for (String kv : u.getRawQuery().split("&")) {
      String[] p = kv.split("=", 2);
      out.put(p[0], URLDecoder.decode(p[1], StandardCharsets.UTF_8));
    }
    return out;
  }

  @Test
  void generatorUrlOpensTheProvisionedRunDashboardForTheRunAroundTheAlert() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(Files.readString(RUN_DASHBOARD));
    Set<String> variables = new HashSet<>();
    dashboard.get("templating").get("list").forEach(v -> variables.add(v.get("name").asText()));
    String run = "team a/run #7&x=1";
    AlertEvent e =
        AlertEvent.firing(
            run,
            Family.INSTABILITY,
            "loss_spike",
            Severity.WARNING,
            500,
            Fixtures.START.toEpochMilli(),
            "s",
            "r",
            Map.of(),
            null);
    Alert firing = Alert.from(e, null, Fixtures.START);
    Instant later = Fixtures.START.plusSeconds(3600);
    Alert resolved =
        Alert.from(e.resolve(900, later.toEpochMilli(), "ok", Map.of()), firing, later);

    URI f = URI.create(links.generatorUrl(firing, later));
    URI r = URI.create(links.generatorUrl(resolved, later));

    assertThat(f.getScheme() + "://" + f.getHost()).isEqualTo("https://grafana.example");
    assertThat(f.getPath()).isEqualTo("/d/" + dashboard.get("uid").asText());
    Map<String, String> fq = query(f);
    for (String k : fq.keySet()) {
      if (k.startsWith("var-")) {
        assertThat(variables).as("dashboard variable for " + k).contains(k.substring(4));
      }
    }
    assertThat(fq).containsEntry("var-run", run);
    long window = Duration.ofMinutes(15).toMillis();
    assertThat(Long.parseLong(fq.get("from"))).isEqualTo(firing.startsMs() - window);
    assertThat(fq.get("to")).isEqualTo("now");
    Map<String, String> rq = query(r);
    assertThat(Long.parseLong(rq.get("from"))).isEqualTo(firing.startsMs() - window);
    assertThat(Long.parseLong(rq.get("to"))).isEqualTo(resolved.endsMs() + window);
  }

  /**
   * A heading of docs/detectors.md: level 2 ({@code ## }) or 3, and the family section it is in.
   */
  private record Heading(int level, String text, String family) {}

  private static List<Heading> docHeadings() throws Exception {
    List<Heading> out = new ArrayList<>();
    String family = "";
    boolean fenced = false;
    for (String l : Files.readAllLines(DETECTOR_DOCS)) {
      if (l.startsWith("```")) {
        fenced = !fenced;
      } else if (!fenced && l.startsWith("## ")) {
        family = l.substring(3).strip();
        out.add(new Heading(2, family, family));
      } else if (!fenced && l.startsWith("### ")) {
        out.add(new Heading(3, l.substring(4).strip(), family));
      }
    }
    return out;
  }

  /** The anchor a runbook URL ends with, which must be the anchor of exactly one heading. */
  private static void assertOneHeadingHasTheAnchorOf(String url, List<Heading> headings) {
    assertThat(url).startsWith("https://docs.example/detectors.md#");
    String anchor = url.substring(url.indexOf('#') + 1);
    assertThat(headings.stream().filter(h -> AlertLinks.anchor(h.text()).equals(anchor)))
        .as("one heading of docs/detectors.md with the anchor #" + anchor)
        .hasSize(1);
  }

  @Test
  void anchorsAreGitHubs() {
    assertThat(AlertLinks.anchor("grad_norm_spike")).isEqualTo("grad_norm_spike");
    assertThat(AlertLinks.anchor("What a receiver sees")).isEqualTo("what-a-receiver-sees");
    assertThat(AlertLinks.anchor(" Loss spike (v2): `z`! ")).isEqualTo("loss-spike-v2-z");
    assertThat(AlertLinks.anchor(null)).isEmpty();
  }

  @Test
  void runbookUrlPointsAtTheDetectorsSectionOfTheDetectorDocs() throws Exception {
    List<Heading> headings = docHeadings();
    for (Family fam : Family.values()) {
      List<String> detectors =
          headings.stream()
              .filter(h -> h.level() == 3 && h.family().equals(fam.wire()))
              .map(Heading::text)
              .toList();
      assertThat(detectors)
          .as("'### <detector>' sections under '## " + fam.wire() + "' in docs/detectors.md")
          .isNotEmpty();
      for (String detector : detectors) {
        Alert a =
            Alert.from(
                AlertEvent.firing(
                    "r", fam, detector, Severity.WARNING, 1, 1, "s", "x", Map.of(), null),
                null,
                Fixtures.START);
        String url = links.runbookUrl(a);
        assertThat(url).isEqualTo("https://docs.example/detectors.md#" + detector);
        assertOneHeadingHasTheAnchorOf(url, headings);
      }
    }
  }

  @Test
  void runbookUrlFallsBackToTheFamilysSectionWithoutADetectorLabel() throws Exception {
    List<Heading> headings = docHeadings();
    for (Family fam : Family.values()) {
      for (Map<String, String> labels :
          List.of(
              Map.of(Alert.RUN, "r", Alert.FAMILY, fam.wire()),
              Map.of(Alert.RUN, "r", Alert.FAMILY, fam.wire(), Alert.DETECTOR, ""))) {
        Alert a = new Alert(null, "src", labels, Map.of(), 1, 0, 1);
        String url = links.runbookUrl(a);
        assertThat(url).isEqualTo("https://docs.example/detectors.md#" + fam.wire());
        assertOneHeadingHasTheAnchorOf(url, headings);
        assertThat(headings).contains(new Heading(2, fam.wire(), fam.wire()));
      }
    }
    assertThat(links.runbookUrl(new Alert(null, "src", Map.of(Alert.RUN, "r"), Map.of(), 1, 0, 1)))
        .isEmpty();
    Alert a =
        Alert.from(
            Fixtures.critical("run-1", Family.INSTABILITY, "loss_spike", 10), null, Fixtures.START);
    assertThat(new AlertLinks(new Links("", "x", Duration.ofMinutes(1), "")).runbookUrl(a))
        .isEmpty();
    assertThat(new AlertLinks(new Links("", "x", Duration.ofMinutes(1), "")).annotations(a))
        .doesNotContainKey("runbook_url");
  }

  @Test
  void webhookAndAlertmanagerPayloadsCarryDescriptionRunbookAndLink() throws Exception {
    Alert a =
        Alert.from(
            Fixtures.critical("run-1", Family.SOFTMAX_COLLAPSE, "softmax_absorption", 10),
            null,
            Fixtures.START);
    Notification n =
        new Notification(
            "g", "team", Map.of("run", "run-1"), List.of(a), "http://x", links, Fixtures.START);
    for (byte[] body :
        List.of(Payloads.webhookV4(n, 0), Payloads.alertmanagerV2(n, Duration.ofMinutes(1)))) {
      JsonNode p = new ObjectMapper().readTree(body);
      JsonNode alert = p.isArray() ? p.get(0) : p.get("alerts").get(0);
      assertThat(alert.get("annotations").get("description").asText())
          .isEqualTo("softmax_absorption is critical on run-1 Remedy: stop the run");
      assertThat(alert.get("annotations").get("runbook_url").asText())
          .isEqualTo("https://docs.example/detectors.md#softmax_absorption");
      assertThat(alert.get("generatorURL").asText())
          .startsWith("https://grafana.example/d/trainwatch-run?");
    }
    assertThat(
            new AlertLinks(new Links("", "x", Duration.ofMinutes(1), ""))
                .generatorUrl(a, Fixtures.START))
        .isEmpty();
  }
}
