package dev.trainwatch.alerts.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * The request and response bodies of Alertmanager's API v2 (its OpenAPI spec, the subset amtool
 * uses), bound by Jackson: the field names are Alertmanager's, so amtool reads them as its own.
 */
final class AlertmanagerShapes {

  private AlertmanagerShapes() {}

  /** {@code isEqual} absent means true, as in Alertmanager since 0.22. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record MatcherBody(
      String name,
      String value,
      @JsonProperty("isRegex") boolean isRegex,
      @JsonProperty("isEqual") Boolean isEqual) {}

  /** POST /silences: {@code id} set means update. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record PostableSilence(
      String id,
      List<MatcherBody> matchers,
      String startsAt,
      String endsAt,
      String createdBy,
      String comment) {}

  record SilenceStatus(String state) {}

  record GettableSilence(
      String id,
      List<MatcherBody> matchers,
      String startsAt,
      String endsAt,
      String updatedAt,
      String createdBy,
      String comment,
      SilenceStatus status) {}

  record SilenceCreated(String silenceID) {}

  record ReceiverName(String name) {}

  /** {@code state}: active, suppressed or unprocessed. */
  record AlertStatusBody(String state, List<String> silencedBy, List<String> inhibitedBy) {}

  record GettableAlert(
      Map<String, String> labels,
      Map<String, String> annotations,
      String startsAt,
      String endsAt,
      String updatedAt,
      @JsonProperty("generatorURL") String generatorURL,
      String fingerprint,
      List<ReceiverName> receivers,
      AlertStatusBody status) {}

  record ClusterStatus(String status, List<Object> peers) {}

  record VersionInfo(
      String version,
      String branch,
      String buildDate,
      String buildUser,
      String goVersion,
      String revision) {}

  record ConfigBody(String original) {}

  record Status(ClusterStatus cluster, VersionInfo versionInfo, ConfigBody config, String uptime) {}
}
