package dev.trainwatch.alerts.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import dev.trainwatch.alerts.api.AlertmanagerShapes.AlertStatusBody;
import dev.trainwatch.alerts.api.AlertmanagerShapes.ClusterStatus;
import dev.trainwatch.alerts.api.AlertmanagerShapes.ConfigBody;
import dev.trainwatch.alerts.api.AlertmanagerShapes.GettableAlert;
import dev.trainwatch.alerts.api.AlertmanagerShapes.GettableSilence;
import dev.trainwatch.alerts.api.AlertmanagerShapes.MatcherBody;
import dev.trainwatch.alerts.api.AlertmanagerShapes.PostableSilence;
import dev.trainwatch.alerts.api.AlertmanagerShapes.ReceiverName;
import dev.trainwatch.alerts.api.AlertmanagerShapes.SilenceCreated;
import dev.trainwatch.alerts.api.AlertmanagerShapes.SilenceStatus;
import dev.trainwatch.alerts.api.AlertmanagerShapes.Status;
import dev.trainwatch.alerts.api.AlertmanagerShapes.VersionInfo;
import dev.trainwatch.alerts.api.ApiServer.Reply;
import dev.trainwatch.alerts.dispatch.Dispatcher.AlertStatus;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.model.AlertLinks;
import dev.trainwatch.alerts.model.Matcher;
import dev.trainwatch.alerts.silence.Silence;
import dev.trainwatch.alerts.silence.Silences;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The part of Alertmanager's API v2 that {@code amtool} and dashboards use, in its shapes: {@code
 * GET /alerts} (active alerts; {@code filter}, {@code active}, {@code silenced}, {@code inhibited},
 * {@code receiver}), {@code GET /silences} ({@code filter}), {@code POST /silences} (create, or
 * update by {@code id}), {@code GET|DELETE /silence/{id}} (DELETE expires: silences are never
 * deleted), {@code GET /status}. Validation follows Alertmanager's: a silence needs matchers,
 * createdBy, endsAt in the future and after startsAt, and at least one matcher that does not match
 * the empty string (no silence mutes everything).
 *
 * <pre>{@code amtool --alertmanager.url=http://127.0.0.1:9095 silence add run=r1 -c "known"}</pre>
 */
final class AlertmanagerApi {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ZERO_TIME = "0001-01-01T00:00:00.000Z";
  private final Silences silences;
  private final Supplier<List<AlertStatus>> alerts;
  private final AlertLinks links;
  private final InstantSource clock;
  private final Instant started;

  AlertmanagerApi(
      Silences silences,
      Supplier<List<AlertStatus>> alerts,
      AlertLinks links,
      InstantSource clock) {
    this.silences = silences;
    this.alerts = alerts;
    this.links = links;
    this.clock = clock;
    this.started = clock.instant();
  }

  Reply handle(String method, String path, String query, byte[] body) {
    Instant now = clock.instant();
    Map<String, List<String>> params = params(query);
    if (path.equals("/alerts") && method.equals("GET")) {
      return Reply.of(200, alerts(params, now));
    }
    if (path.equals("/silences") && method.equals("GET")) {
      return Reply.of(200, silences(params, now));
    }
    if (path.equals("/silences") && method.equals("POST")) {
      return postSilence(body, now);
    }
    if (path.startsWith("/silence/") && path.length() > "/silence/".length()) {
      String id = path.substring("/silence/".length());
      if (method.equals("GET")) {
        return silences
            .get(id)
            .map(s -> Reply.of(200, gettable(s, now)))
            .orElse(Reply.error(404, "silence " + id + " not found"));
      }
      if (method.equals("DELETE")) {
        return silences.expire(id, now)
            ? new Reply(200, "application/json", "")
            : Reply.error(404, "silence " + id + " not found");
      }
    }
    if (path.equals("/status") && method.equals("GET")) {
      return Reply.of(200, status());
    }
    return Reply.error(405, method + " " + "/api/v2" + path + " is not supported");
  }

  private List<GettableAlert> alerts(Map<String, List<String>> params, Instant now) {
    List<Matcher> filter = matchers(params.getOrDefault("filter", List.of()));
    boolean active = bool(params, "active");
    boolean silenced = bool(params, "silenced");
    boolean inhibited = bool(params, "inhibited");
    Pattern receiver = regex(params, "receiver");
    List<GettableAlert> out = new ArrayList<>();
    for (AlertStatus st : alerts.get()) {
      Alert a = st.alert();
      boolean isSilenced = !st.silencedBy().isEmpty();
      boolean isInhibited = !st.inhibitedBy().isEmpty();
      if (!Matcher.all(filter, a.labels())
          || (!silenced && isSilenced)
          || (!inhibited && isInhibited)
          || (!active && !isSilenced && !isInhibited)
          || (receiver != null
              && st.receivers().stream().noneMatch(r -> receiver.matcher(r).matches()))) {
        continue;
      }
      out.add(
          new GettableAlert(
              a.labels(),
              links.annotations(a),
              Instant.ofEpochMilli(a.startsMs()).toString(),
              ZERO_TIME,
              now.toString(),
              links.generatorUrl(a, now),
              a.fingerprint(),
              st.receivers().stream().map(ReceiverName::new).toList(),
              new AlertStatusBody(
                  isSilenced || isInhibited ? "suppressed" : "active",
                  st.silencedBy(),
                  st.inhibitedBy())));
    }
    return out;
  }

  /** Alertmanager's rule: a silence matches the filter if its equality matchers, as labels, do. */
  private List<GettableSilence> silences(Map<String, List<String>> params, Instant now) {
    List<Matcher> filter = matchers(params.getOrDefault("filter", List.of()));
    List<Silence> all = new ArrayList<>(silences.all());
    // active first (soonest to end), then pending, then expired (most recent first), as
    // Alertmanager
    all.sort(
        Comparator.comparingInt(
                (Silence s) ->
                    switch (s.state(now)) {
                      case "active" -> 0;
                      case "pending" -> 1;
                      default -> 2;
                    })
            .thenComparing(
                s ->
                    s.state(now).equals("expired")
                        ? -s.endsAt().toEpochMilli()
                        : s.endsAt().toEpochMilli()));
    List<GettableSilence> out = new ArrayList<>();
    for (Silence s : all) {
      Map<String, String> asLabels = new HashMap<>();
      s.matchers().stream()
          .filter(m -> m.isEqual() && !m.isRegex())
          .forEach(m -> asLabels.put(m.name(), m.value()));
      if (Matcher.all(filter, asLabels)) {
        out.add(gettable(s, now));
      }
    }
    return out;
  }

  private Reply postSilence(byte[] body, Instant now) {
    Silence draft;
    try {
      draft = parse(body, now);
    } catch (IOException e) {
      return Reply.error(400, "body must be a JSON silence: " + e.getMessage());
    }
    if (draft.id() != null && !draft.id().isEmpty() && silences.get(draft.id()).isEmpty()) {
      return Reply.error(404, "silence " + draft.id() + " not found");
    }
    Silence s =
        draft.id() == null || draft.id().isEmpty()
            ? silences.create(
                new Silence(
                    Silences.newId(),
                    draft.matchers(),
                    draft.startsAt(),
                    draft.endsAt(),
                    draft.createdBy(),
                    draft.comment()))
            : silences.create(draft); // update in place: same id, new matchers and times
    return Reply.of(200, new SilenceCreated(s.id()));
  }

  /** Parses an Alertmanager PostableSilence; the id is "" when absent. */
  static Silence parse(byte[] body, Instant now) throws IOException {
    PostableSilence p;
    try {
      p = JSON.readValue(body, PostableSilence.class);
    } catch (MismatchedInputException e) {
      throw new IllegalArgumentException(
          "body must be a JSON silence object: " + e.getOriginalMessage());
    }
    if (p == null) {
      throw new IllegalArgumentException("body must be a JSON object");
    }
    List<Matcher> ms = new ArrayList<>();
    for (MatcherBody m : p.matchers() == null ? List.<MatcherBody>of() : p.matchers()) {
      if (m == null || m.name() == null) {
        throw new IllegalArgumentException("matchers: each needs name and value");
      }
      ms.add(new Matcher(m.name(), m.value(), m.isRegex(), m.isEqual() == null || m.isEqual()));
    }
    if (ms.isEmpty()) {
      throw new IllegalArgumentException("matchers: at least one matcher is required");
    }
    if (ms.stream().allMatch(m -> m.matches(Map.of()))) {
      throw new IllegalArgumentException(
          "matchers: at least one matcher must not match the empty "
              + "string (a silence may not mute every alert)");
    }
    if (p.createdBy() == null || p.createdBy().isBlank()) {
      throw new IllegalArgumentException("createdBy: is required");
    }
    if (p.endsAt() == null) {
      throw new IllegalArgumentException("endsAt: is required");
    }
    Instant ends = time("endsAt", p.endsAt());
    Instant starts = p.startsAt() == null ? now : time("startsAt", p.startsAt());
    if (starts.isBefore(now)) {
      starts = now; // as Alertmanager: a silence cannot start in the past
    }
    if (!ends.isAfter(now)) {
      throw new IllegalArgumentException("endsAt: must be in the future");
    }
    if (!ends.isAfter(starts)) {
      throw new IllegalArgumentException("endsAt: must be after startsAt");
    }
    return new Silence(
        p.id() == null ? "" : p.id(),
        ms,
        starts,
        ends,
        p.createdBy(),
        p.comment() == null ? "" : p.comment());
  }

  private static Instant time(String field, String text) {
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(field + ": must be RFC 3339, e.g. 2026-01-01T00:00:00Z");
    }
  }

  static GettableSilence gettable(Silence s, Instant now) {
    return new GettableSilence(
        s.id(),
        s.matchers().stream()
            .map(m -> new MatcherBody(m.name(), m.value(), m.isRegex(), m.isEqual()))
            .toList(),
        s.startsAt().toString(),
        s.endsAt().toString(),
        s.startsAt().toString(),
        s.createdBy(),
        s.comment(),
        new SilenceStatus(s.state(now)));
  }

  private Status status() {
    return new Status(
        new ClusterStatus("disabled", List.of()),
        new VersionInfo("trainwatch-alerts", "", "", "", "", ""),
        new ConfigBody(""),
        started.toString());
  }

  private static Map<String, List<String>> params(String query) {
    Map<String, List<String>> out = new HashMap<>();
    if (query == null || query.isEmpty()) {
      return out;
    }
    for (String kv : query.split("&")) {
      int eq = kv.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
      String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
      out.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
    }
    return out;
  }

  /** Filter matchers as amtool sends them: {@code run="r1"}, optionally inside braces. */
  private static List<Matcher> matchers(List<String> texts) {
    List<Matcher> out = new ArrayList<>();
    for (String t : texts) {
      String s = t.strip();
      if (s.startsWith("{") && s.endsWith("}")) {
        s = s.substring(1, s.length() - 1);
      }
      for (String part :
          s.isEmpty()
              ? new String[0]
              : s.split(",(?=\\s*[a-zA-Z_][a-zA-Z0-9_]*\\s*(=~|!~|!=|=))")) {
        out.add(Matcher.parse(part));
      }
    }
    return out;
  }

  private static boolean bool(Map<String, List<String>> params, String key) {
    List<String> v = params.get(key);
    if (v == null || v.isEmpty()) {
      return true; // Alertmanager's default for active, silenced, inhibited
    }
    return !v.get(0).equalsIgnoreCase("false");
  }

  private static Pattern regex(Map<String, List<String>> params, String key) {
    List<String> v = params.get(key);
    if (v == null || v.isEmpty() || v.get(0).isEmpty()) {
      return null;
    }
    try {
      return Pattern.compile(v.get(0));
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(key + ": invalid regex: " + e.getDescription());
    }
  }
}
