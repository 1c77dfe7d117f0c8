package dev.trainwatch.alerts.model;

import dev.trainwatch.alerts.config.AlertsConfig.Links;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What payloads add to an alert so a person can act on it: {@code generatorURL} opens the
 * provisioned run dashboard ({@code /d/<uid>?var-run=<run>&from=<ms>&to=<ms|now>}, the window
 * around the alert), {@code runbook_url} is the detector's section of the detector docs, and {@code
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

  /**
   * The detector's section of docs/detectors.md ({@code #<detector>}: each detector has a {@code
   * ### <detector>} heading, e.g. {@code ### grad_norm_spike}, whose anchor is its name), or the
   * family's section ({@code #<family>}, a {@code ## <family>} heading) for an alert without a
   * detector label. Empty without a docs URL or either label.
   */
  public String runbookUrl(Alert a) {
    if (links.docsUrl().isEmpty()) {
      return "";
    }
    for (String label : new String[] {Alert.DETECTOR, Alert.FAMILY}) {
      String anchor = anchor(a.label(label));
      if (!anchor.isEmpty()) {
        return links.docsUrl() + "#" + anchor;
      }
    }
    return "";
  }

  /**
   * GitHub's anchor of a Markdown heading: lower case, punctuation other than {@code -} and {@code
   * _} dropped, spaces as {@code -}; a detector or family name ({@code grad_norm_spike}) is its own
   * anchor. Empty for null.
   */
  static String anchor(String heading) {
    if (heading == null) {
      return "";
    }
    return heading
        .strip()
        .toLowerCase(Locale.ROOT)
        .replaceAll("[^\\p{L}\\p{N}_\\- ]", "")
        .replace(' ', '-');
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
