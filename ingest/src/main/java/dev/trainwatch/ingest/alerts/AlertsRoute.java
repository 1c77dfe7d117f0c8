package dev.trainwatch.ingest.alerts;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.trainwatch.ingest.http.HttpIntake.Call;
import dev.trainwatch.ingest.http.HttpIntake.Reply;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /v1/runs/{run}/alerts?after=<cursor>&wait_ms=<ms>}: the run's firing alerts and its
 * alert events after the cursor, as soon as there is one, or after {@code wait_ms} (at most {@code
 * alerts.max.wait.ms}) with none.
 *
 * <pre>{@code
 * {"run":"r1","cursor":"5f2a9c1e-42","active":[<AlertEvent>...],"events":[<AlertEvent>...]}
 * }</pre>
 *
 * Without {@code after} it answers at once (the client's first poll learns the state). Events and
 * active alerts are the alerts topic's JSON unchanged (the wire schema of AlertEvent).
 */
public final class AlertsRoute implements AutoCloseable {

  private static final JsonFactory JSON = new JsonFactory();

  private final RunAlerts alerts;
  private final int maxWaitMs;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "ingest-alerts-poll");
            t.setDaemon(true);
            return t;
          });

  public AlertsRoute(RunAlerts alerts, int maxWaitMs) {
    this.alerts = alerts;
    this.maxWaitMs = maxWaitMs;
  }

  public CompletableFuture<Reply> handle(Call call) {
    String run = call.params().get("run");
    Map<String, String> q = query(call.query());
    String cursor = q.get("after");
    int wait;
    try {
      wait = Math.max(0, Math.min(maxWaitMs, Integer.parseInt(q.getOrDefault("wait_ms", "0"))));
    } catch (NumberFormatException e) {
      return CompletableFuture.completedFuture(
          Reply.error(
              400, "wait_ms: expected an integer (milliseconds), got '" + q.get("wait_ms") + "'"));
    }
    CompletableFuture<RunAlerts.Answer> f =
        wait == 0
            ? CompletableFuture.completedFuture(alerts.since(run, cursor))
            : alerts.await(run, cursor);
    if (f == null) {
      return CompletableFuture.completedFuture(
          Reply.error(503, "too many alert polls waiting; retry").withHeader("Retry-After", "1"));
    }
    if (!f.isDone()) {
      timer.schedule(() -> alerts.expire(run, f), wait, TimeUnit.MILLISECONDS);
    }
    return f.thenApply(a -> Reply.json(200, body(run, a)));
  }

  static byte[] body(String run, RunAlerts.Answer a) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("run", run);
      g.writeStringField("cursor", a.cursor());
      g.writeArrayFieldStart("active");
      for (String json : a.active()) {
        g.writeRawValue(json);
      }
      g.writeEndArray();
      g.writeArrayFieldStart("events");
      for (RunAlerts.Entry e : a.events()) {
        g.writeRawValue(e.json());
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static Map<String, String> query(String query) {
    Map<String, String> out = new HashMap<>();
    if (query == null || query.isEmpty()) {
      return out;
    }
    for (String kv : query.split("&")) {
      int eq = kv.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
      String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
      out.put(k, v);
    }
    return out;
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
