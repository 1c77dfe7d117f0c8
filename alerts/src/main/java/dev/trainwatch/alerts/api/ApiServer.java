package dev.trainwatch.alerts.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.model.Matcher;
import dev.trainwatch.alerts.silence.Silence;
import dev.trainwatch.alerts.silence.Silences;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * The HTTP API of the alerts service (JDK HttpServer, loopback by default):
 * {@code GET /healthz}, {@code GET /metrics} (Prometheus text), and silences:
 * {@code POST /api/v1/silences} with {@code matchers} (Alertmanager objects
 * {@code {"name","value","isRegex","isEqual"}} or strings {@code severity="warning"}),
 * {@code startsAt} (default now) and {@code endsAt}, answering {@code {"silenceID": ...}};
 * {@code GET /api/v1/silences[/{id}]}; {@code DELETE /api/v1/silences/{id}} expires it.
 */
public final class ApiServer implements AutoCloseable {

  static {
    // without TCP_NODELAY the JDK server's small writes meet delayed ACKs: ~40 ms per request
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SILENCES = "/api/v1/silences";
  private final HttpServer server;
  private final ExecutorService executor;
  private final Silences silences;
  private final AlertsMetrics metrics;
  private final InstantSource clock;
  private final BooleanSupplier healthy;

  public ApiServer(String host, int port, Silences silences, AlertsMetrics metrics,
      InstantSource clock, BooleanSupplier healthy) throws IOException {
    this.silences = silences;
    this.metrics = metrics;
    this.clock = clock;
    this.healthy = healthy;
    this.server = HttpServer.create(new InetSocketAddress(host, port), 16);
    this.executor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "alerts-api");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/healthz", ex -> handle(ex, this::health));
    server.createContext("/metrics", ex -> handle(ex, this::metricsPage));
    server.createContext(SILENCES, ex -> handle(ex, this::silencesApi));
    server.start();
  }

  /** The bound port (useful when configured as 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  private record Reply(int status, String contentType, String body) {
    static Reply json(int status, JsonNode n) {
      return new Reply(status, "application/json", n.toString());
    }

    static Reply error(int status, String msg) {
      return json(status, JSON.createObjectNode().put("error", msg));
    }
  }

  private interface Handler {
    Reply apply(HttpExchange ex) throws IOException;
  }

  private void handle(HttpExchange ex, Handler h) throws IOException {
    Reply r;
    try {
      r = h.apply(ex);
    } catch (IllegalArgumentException | IOException e) {
      r = Reply.error(400, e.getMessage());
    } catch (RuntimeException e) {
      r = Reply.error(500, e.toString());
    }
    byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", r.contentType());
    ex.sendResponseHeaders(r.status(), body.length == 0 ? -1 : body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  private Reply health(HttpExchange ex) {
    return healthy.getAsBoolean() ? new Reply(200, "text/plain", "ok\n")
        : new Reply(503, "text/plain", "consumer not running\n");
  }

  private Reply metricsPage(HttpExchange ex) {
    return new Reply(200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
  }

  private Reply silencesApi(HttpExchange ex) throws IOException {
    String rest = ex.getRequestURI().getPath().substring(SILENCES.length());
    String id = rest.startsWith("/") && rest.length() > 1 ? rest.substring(1) : null;
    Instant now = clock.instant();
    String method = ex.getRequestMethod();
    if (method.equals("POST") && id == null) {
      Silence s = silences.create(parse(ex.getRequestBody().readAllBytes(), now));
      return Reply.json(200, JSON.createObjectNode().put("silenceID", s.id()));
    }
    if (method.equals("GET") && id == null) {
      ArrayNode arr = JSON.createArrayNode();
      silences.all().forEach(s -> arr.add(toJson(s, now)));
      return Reply.json(200, arr);
    }
    if (method.equals("GET")) {
      return silences.get(id).map(s -> Reply.json(200, toJson(s, now)))
          .orElse(Reply.error(404, "no silence " + id));
    }
    if (method.equals("DELETE") && id != null) {
      return silences.expire(id, now) ? Reply.json(200, JSON.createObjectNode().put("expired", id))
          : Reply.error(404, "no silence " + id);
    }
    return Reply.error(405, method + " not supported on " + ex.getRequestURI().getPath());
  }

  static Silence parse(byte[] body, Instant now) throws IOException {
    JsonNode n = JSON.readTree(body);
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("body must be a JSON object");
    }
    List<Matcher> matchers = new ArrayList<>();
    for (JsonNode m : n.path("matchers")) {
      matchers.add(m.isTextual() ? Matcher.parse(m.asText())
          : new Matcher(m.path("name").asText(), m.path("value").asText(),
              m.path("isRegex").asBoolean(false), m.path("isEqual").asBoolean(true)));
    }
    if (matchers.isEmpty()) {
      throw new IllegalArgumentException("matchers: at least one matcher is required");
    }
    Instant starts = n.hasNonNull("startsAt") ? time(n, "startsAt") : now;
    if (!n.hasNonNull("endsAt")) {
      throw new IllegalArgumentException("endsAt: is required");
    }
    String id = n.hasNonNull("id") ? n.get("id").asText() : Silences.newId();
    Instant ends = time(n, "endsAt");
    if (!ends.isAfter(starts) || !ends.isAfter(now)) {
      throw new IllegalArgumentException("endsAt: must be after startsAt and in the future");
    }
    return new Silence(id, matchers, starts, ends, n.path("createdBy").asText("api"),
        n.path("comment").asText(""));
  }

  private static Instant time(JsonNode n, String field) {
    try {
      return Instant.parse(n.get(field).asText());
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(field + ": must be RFC 3339, e.g. 2026-01-01T00:00:00Z");
    }
  }

  private static ObjectNode toJson(Silence s, Instant now) {
    ObjectNode o = JSON.createObjectNode().put("id", s.id());
    ArrayNode ms = o.putArray("matchers");
    s.matchers().forEach(m -> ms.addObject().put("name", m.name()).put("value", m.value())
        .put("isRegex", m.isRegex()).put("isEqual", m.isEqual()));
    o.put("startsAt", s.startsAt().toString()).put("endsAt", s.endsAt().toString())
        .put("createdBy", s.createdBy()).put("comment", s.comment());
    o.putObject("status").put("state", s.state(now));
    return o;
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
