package dev.trainwatch.alerts.model;

import dev.trainwatch.alerts.config.AlertsConfig.Links;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * What payloads add to an alert so a person can act on it: {@code generatorURL} opens the
 * provisioned run dashboard ({@code /d/<uid>?var-run=<run>&from=<ms>&to=<ms|now>}, the window
 * around the alert), {@code runbook_url} is the family's section of the detector docs, and {@code
 * description} is the summary with the remedy, which Alertmanager's default templates show.
 *
 * <pre>{@code
 * AlertLinks l = new AlertLinks(config.links());
 * String url = l.generatorUrl(alert, now);
 * }</pre>
 */
public record AlertLinks(Links links) {

  /** Grafana's URL parameter for a dashboard template variable: {@code var-<name>}. */
  public static final String RUN_VARIABLE = "var-run";

  /** Links that point nowhere: for tests and embedders without Grafana. */
  public static final AlertLinks NONE =
      new AlertLinks(new Links("", "", Duration.ofMinutes(15), ""));

  /**
   * The run dashboard from {@code window} before the alert started to {@code window} after it ended
   * (or {@code now} while it fires). Empty when no Grafana URL is configured.
   */
  public String generatorUrl(Alert a, Instant now) {
    if (links.grafanaUrl().isEmpty() || a.label(Alert.RUN) == null) {
      return "";
    }
    long w = links.dashboardWindow().toMillis();
    String to = a.resolved() ? Long.toString(a.endsMs() + w) : "now";
    return links.grafanaUrl()
        + "/d/"
        + enc(links.dashboardUid())
        + "?orgId=1&"
        + RUN_VARIABLE
        + "="
        + enc(a.label(Alert.RUN))
        + "&from="
        + (a.startsMs() - w)
        + "&to="
        + to;
  }

  /** The family's section of docs/detectors.md: its headings are the family names. */
  public String runbookUrl(Alert a) {
    String family = a.label(Alert.FAMILY);
    if (links.docsUrl().isEmpty() || family == null) {
      return "";
    }
    return links.docsUrl() + "#" + family;
  }

  /**
   * The alert's annotations plus {@code description} (summary and remedy) and {@code runbook_url}.
   */
  public Map<String, String> annotations(Alert a) {
    Map<String, String> out = new TreeMap<>(a.annotations());
    String summary = a.annotations().getOrDefault("summary", "");
    String remedy = a.annotations().get("remedy");
    out.put(
        "description",
        remedy == null || remedy.isEmpty()
            ? summary
            : summary + (summary.isEmpty() ? "" : " ") + "Remedy: " + remedy);
    String runbook = runbookUrl(a);
    if (!runbook.isEmpty()) {
      out.put("runbook_url", runbook);
    }
    return out;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
