package dev.trainwatch.alerts.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.alerts.config.AlertsConfig.Http;
import dev.trainwatch.alerts.dispatch.Dispatcher.AlertStatus;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.model.AlertLinks;
import dev.trainwatch.alerts.silence.Silences;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The HTTP API of the alerts service (Jetty, loopback by default): {@code GET /healthz}, {@code GET
 * /metrics} (Prometheus text), and the Alertmanager API v2 subset that {@code amtool} speaks
 * ({@link AlertmanagerApi}): {@code GET /api/v2/alerts}, {@code GET|POST /api/v2/silences}, {@code
 * GET|DELETE /api/v2/silence/{id}}, {@code GET /api/v2/status}. The v1 silences API is retired:
 * {@code /api/v1/*} answers 410 naming its v2 replacement.
 *
 * <p>Resisting slow and large clients: Jetty parses requests without holding a thread between
 * bytes, so slow connections cost a socket, not a handler; bodies are read asynchronously up to
 * {@code max_body_bytes} (413 beyond, announced or not, never buffered past the limit) and within
 * {@code request_timeout} (408); idle connections close after {@code idle_timeout}; the handler
 * pool is bounded ({@code threads}). Writes need credentials ({@link ApiAuth}).
 */
public final class ApiServer implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final Server server;
  private final ServerConnector connector;
  private final AlertsMetrics metrics;
  private final BooleanSupplier healthy;
  private final ApiAuth auth;
  private final AlertmanagerApi am;
  private final Http http;

  public ApiServer(
      Http http,
      Silences silences,
      Supplier<List<AlertStatus>> alerts,
      AlertLinks links,
      AlertsMetrics metrics,
      InstantSource clock,
      BooleanSupplier healthy)
      throws Exception {
    this.http = http;
    this.metrics = metrics;
    this.healthy = healthy;
    this.auth = new ApiAuth(http.auth());
    this.am = new AlertmanagerApi(silences, alerts, links, clock);
    // handler threads plus Jetty's acceptor and selector; no reserved threads to account for
    QueuedThreadPool pool = new QueuedThreadPool(http.threads() + 2, 2);
    pool.setReservedThreads(0);
    pool.setName("alerts-api");
    pool.setDaemon(true);
    this.server = new Server(pool);
    HttpConfiguration hc = new HttpConfiguration();
    hc.setSendServerVersion(false);
    hc.setRequestHeaderSize(16 * 1024);
    this.connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(hc));
    connector.setHost(http.listen());
    connector.setPort(http.port());
    connector.setIdleTimeout(http.idleTimeout().toMillis());
    server.addConnector(connector);
    server.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback) {
            dispatch(request, response, callback);
            return true;
          }
        });
    server.start();
  }

  /** The bound port (useful when configured as 0). */
  public int port() {
    return connector.getLocalPort();
  }

  /** A reply: status, content type, body. */
  record Reply(int status, String contentType, String body) {
    static Reply json(int status, JsonNode n) {
      return new Reply(status, "application/json", n.toString());
    }

    /** {@code body} bound to JSON by Jackson (records of {@link AlertmanagerShapes}). */
    static Reply of(int status, Object body) {
      try {
        return new Reply(status, "application/json", JSON.writeValueAsString(body));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("cannot write " + body.getClass().getSimpleName(), e);
      }
    }

    static Reply error(int status, String msg) {
      return json(status, JSON.createObjectNode().put("error", msg));
    }
  }

  private void dispatch(Request request, Response response, Callback callback) {
    String path = Request.getPathInContext(request);
    String method = request.getMethod();
    boolean write = !method.equals("GET") && !method.equals("HEAD");
    boolean open = path.equals("/healthz") || path.equals("/-/healthy") || path.equals("/-/ready");
    ApiAuth.Verdict v =
        open
            ? ApiAuth.Verdict.ALLOWED
            : auth.check(request.getHeaders().get(HttpHeader.AUTHORIZATION), write);
    if (v != ApiAuth.Verdict.ALLOWED) {
      response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Basic realm=\"trainwatch-alerts\"");
      reply(response, callback, Reply.error(401, v.message()));
      return;
    }
    if (!write) {
      reply(response, callback, route(method, path, request.getHttpURI().getQuery(), new byte[0]));
      return;
    }
    long declared = request.getLength();
    if (declared > http.maxBodyBytes()) {
      reply(
          response,
          callback,
          Reply.error(
              413,
              "body of " + declared + " bytes exceeds http.max_body_bytes=" + http.maxBodyBytes()));
      return;
    }
    // asynchronous: a client trickling its body holds no thread, and is cut off at request_timeout
    Content.Source.asByteArrayAsync(request, http.maxBodyBytes())
        .orTimeout(http.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete(
            (body, err) -> {
              if (err == null) {
                reply(
                    response, callback, route(method, path, request.getHttpURI().getQuery(), body));
                return;
              }
              Throwable cause =
                  err instanceof CompletionException && err.getCause() != null
                      ? err.getCause()
                      : err;
              if (cause instanceof TimeoutException) {
                reply(
                    response,
                    callback,
                    Reply.error(
                        408,
                        "request body not received within "
                            + "http.request_timeout="
                            + http.requestTimeout().toMillis()
                            + " ms"));
              } else if (String.valueOf(cause.getMessage())
                  .toLowerCase(Locale.ROOT)
                  .contains("max size")) {
                reply(
                    response,
                    callback,
                    Reply.error(413, "body exceeds http.max_body_bytes=" + http.maxBodyBytes()));
              } else {
                callback.failed(cause);
              }
            });
  }

  private Reply route(String method, String path, String query, byte[] body) {
    try {
      if (path.equals("/healthz") || path.equals("/-/healthy") || path.equals("/-/ready")) {
        return healthy.getAsBoolean()
            ? new Reply(200, "text/plain", "ok\n")
            : new Reply(503, "text/plain", "consumer not running\n");
      }
      if (path.equals("/metrics")) {
        return new Reply(200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
      }
      if (path.startsWith("/api/v1/")) {
        return Reply.error(
            410,
            "the v1 API is retired; use /api/v2/silences, /api/v2/silence/{id} "
                + "and /api/v2/alerts (Alertmanager's API v2, which amtool speaks)");
      }
      if (path.startsWith("/api/v2/")) {
        return am.handle(method, path.substring("/api/v2".length()), query, body);
      }
      return Reply.error(404, "no such endpoint: " + path);
    } catch (IllegalArgumentException e) {
      return Reply.error(400, e.getMessage());
    } catch (RuntimeException e) {
      return Reply.error(500, e.toString());
    }
  }

  private static void reply(Response response, Callback callback, Reply r) {
    byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
    response.setStatus(r.status());
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, r.contentType());
    response.write(true, ByteBuffer.wrap(body), callback);
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }
}
