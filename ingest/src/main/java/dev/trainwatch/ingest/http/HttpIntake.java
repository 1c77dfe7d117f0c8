package dev.trainwatch.ingest.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.trainwatch.ingest.pipeline.IngestMetrics;
import dev.trainwatch.ingest.pipeline.Intake;
import dev.trainwatch.ingest.pipeline.Ticket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The sidecar's HTTP server (Jetty 12): {@code POST /v1/records} (one record, a JSON array or JSON
 * Lines), {@code GET /healthz}, {@code GET /metrics} (Prometheus text), and whatever else is added
 * with {@link #route}.
 *
 * <p>Answers 202 {@code {"accepted":N,"rejected":[]}} when every record is valid; 400 with the same
 * body when some are not: valid records of the batch are still accepted, and each rejected one is
 * named by its 1-based line (element) number and the reason, which names the field. 413 for a body
 * over the limit or a record over {@code record.max.bytes} (nothing Kafka would refuse is ever
 * acknowledged), 401 without the bearer token (when one is set), 503 when the memory queue is full
 * or the sidecar refuses records (spool disk full: the reason is in the body; retry after a
 * second). Binds to loopback unless told otherwise.
 *
 * <p>Slow and large clients: Jetty parses requests without holding a thread between bytes, so a
 * slow connection costs a socket, not a thread; connections are capped ({@code
 * http.max.connections}) and closed after {@code http.idle.timeout.ms} without a byte; bodies are
 * read asynchronously, never past {@code http.max.body.bytes}, and must arrive within {@code
 * http.request.timeout.ms} (408). Handlers run on a bounded pool ({@code http.threads}, 503 when
 * all are busy and 64 wait); {@code /healthz} is answered on the network thread, so it answers
 * whatever the handlers do.
 */
public final class HttpIntake implements AutoCloseable {

  private static final JsonFactory JSON = new JsonFactory();
  private static final long QUEUE_WAIT_MS = 200;

  /** Requests waiting for a handler thread before new ones get 503. */
  private static final int WAITING_REQUESTS = 64;

  /**
   * The server's settings ({@code http.*} keys of {@code IngestConfig}).
   *
   * @param durableAckMs 0: answer once the records are queued in memory; > 0: answer once each is
   *     in Kafka or the spool, waiting at most this long ({@code http.ack.durable.ms})
   */
  public record Settings(
      String bind,
      int port,
      String token,
      int maxBodyBytes,
      int durableAckMs,
      int threads,
      int idleTimeoutMs,
      int requestTimeoutMs,
      int maxConnections) {
    public Settings {
      if (durableAckMs < 0) {
        throw new IllegalArgumentException("http.ack.durable.ms must be >= 0, got " + durableAckMs);
      }
      if (threads < 1
          || idleTimeoutMs < 1
          || requestTimeoutMs < 1
          || maxConnections < 1
          || maxBodyBytes < 1) {
        throw new IllegalArgumentException(
            "http.threads, http.idle.timeout.ms, http.request.timeout.ms, "
                + "http.max.connections and http.max.body.bytes must be >= 1");
      }
    }

    /** Loopback defaults for tests and embedding. */
    public static Settings of(
        String bind, int port, String token, int maxBodyBytes, int durableAckMs) {
      return new Settings(bind, port, token, maxBodyBytes, durableAckMs, 8, 30_000, 10_000, 1024);
    }
  }

  /**
   * A request as a route sees it: the body is read in full (within the limits) before the route
   * runs.
   */
  public record Call(
      String method,
      String path,
      Map<String, String> params,
      String query,
      byte[] body,
      String remote) {}

  /** An answer: status, content type, body and extra headers. */
  public record Reply(int status, String contentType, byte[] body, Map<String, String> headers) {
    public static Reply json(int status, byte[] body) {
      return new Reply(status, "application/json", body, Map.of());
    }

    public static Reply error(int status, String message) {
      return json(status, HttpIntake.error(message));
    }

    public Reply withHeader(String name, String value) {
      Map<String, String> h = new LinkedHashMap<>(headers);
      h.put(name, value);
      return new Reply(status, contentType, body, h);
    }
  }

  /** What a route does with a call; runs on the bounded handler pool, so it may block briefly. */
  @FunctionalInterface
  public interface Route {
    Reply handle(Call call) throws Exception;
  }

  /**
   * A route that answers later (a long poll): it must return at once, and the answer is written
   * when the future completes, so a waiting client holds no handler thread, only its socket.
   */
  @FunctionalInterface
  public interface AsyncRoute {
    CompletableFuture<Reply> handle(Call call);
  }

  /**
   * A path pattern: literal segments and {@code {name}} segments that match one non-empty segment.
   */
  private record Pattern(
      String method, String[] segments, boolean needsToken, Route route, AsyncRoute async) {
    Map<String, String> match(String method, String path) {
      if (!this.method.equals(method)) {
        return null;
      }
      String[] parts = path.split("/", -1);
      if (parts.length != segments.length) {
        return null;
      }
      Map<String, String> params = Map.of();
      for (int i = 0; i < parts.length; i++) {
        String s = segments[i];
        if (s.startsWith("{") && s.endsWith("}")) {
          if (parts[i].isEmpty()) {
            return null;
          }
          if (params.isEmpty()) {
            params = new LinkedHashMap<>();
          }
          params.put(
              s.substring(1, s.length() - 1), URLDecoder.decode(parts[i], StandardCharsets.UTF_8));
        } else if (!s.equals(parts[i])) {
          return null;
        }
      }
      return params;
    }
  }

  private final Server server;
  private final ServerConnector connector;
  private final ThreadPoolExecutor handlers;
  private final Intake intake;
  private final IngestMetrics metrics;
  private final byte[] token;
  private final Settings settings;
  private final BooleanSupplier kafkaDown;
  private final Supplier<String> refusal;
  private final List<Pattern> routes = new CopyOnWriteArrayList<>();

  public HttpIntake(
      String bind,
      int port,
      String token,
      int maxBodyBytes,
      int durableAckMs,
      Intake intake,
      IngestMetrics metrics,
      BooleanSupplier kafkaDown)
      throws IOException {
    this(
        Settings.of(bind, port, token, maxBodyBytes, durableAckMs),
        intake,
        metrics,
        kafkaDown,
        () -> null);
  }

  /**
   * @param refusal why the sidecar refuses new records right now (e.g. the spool's disk is full),
   *     or null when it accepts them; answered as 503 on POST and on {@code /healthz}
   */
  public HttpIntake(
      Settings settings,
      Intake intake,
      IngestMetrics metrics,
      BooleanSupplier kafkaDown,
      Supplier<String> refusal)
      throws IOException {
    this.settings = settings;
    this.intake = intake;
    this.metrics = metrics;
    this.token =
        settings.token() == null || settings.token().isEmpty()
            ? null
            : ("Bearer " + settings.token()).getBytes(StandardCharsets.UTF_8);
    this.kafkaDown = kafkaDown;
    this.refusal = refusal;
    this.handlers =
        new ThreadPoolExecutor(
            settings.threads(),
            settings.threads(),
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(WAITING_REQUESTS),
            r -> {
              Thread t = new Thread(r, "ingest-http");
              t.setDaemon(true);
              return t;
            });
    // Jetty's own threads only parse and dispatch: one acceptor, one selector, a few spare
    QueuedThreadPool pool = new QueuedThreadPool(8, 2);
    pool.setReservedThreads(0);
    pool.setName("ingest-http-io");
    pool.setDaemon(true);
    this.server = new Server(pool);
    HttpConfiguration hc = new HttpConfiguration();
    hc.setSendServerVersion(false);
    hc.setRequestHeaderSize(16 * 1024);
    this.connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(hc));
    connector.setHost(settings.bind());
    connector.setPort(settings.port());
    connector.setIdleTimeout(settings.idleTimeoutMs());
    server.addConnector(connector);
    server.addBean(new NetworkConnectionLimit(settings.maxConnections(), connector));
    server.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback) {
            dispatch(request, response, callback);
            return true;
          }
        });
    route("POST", "/v1/records", true, this::records);
    route(
        "GET",
        "/metrics",
        true,
        call ->
            new Reply(
                200,
                IngestMetrics.CONTENT_TYPE,
                metrics.prometheus().getBytes(StandardCharsets.UTF_8),
                Map.of()));
    try {
      server.start();
    } catch (Exception e) {
      handlers.shutdownNow();
      throw new IOException(
          "HTTP input cannot listen on "
              + settings.bind()
              + ":"
              + settings.port()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * Adds a route, e.g. {@code route("GET", "/v1/runs/{run}/alerts", false, call -> ...)}; with
   * {@code needsToken} it answers 401 without the bearer token (when one is set). Routes added
   * later win over earlier ones of the same pattern.
   */
  public HttpIntake route(String method, String pattern, boolean needsToken, Route route) {
    routes.add(0, new Pattern(method, pattern.split("/", -1), needsToken, route, null));
    return this;
  }

  /** Adds an {@link AsyncRoute}: like {@link #route}, answered when its future completes. */
  public HttpIntake routeAsync(
      String method, String pattern, boolean needsToken, AsyncRoute route) {
    routes.add(0, new Pattern(method, pattern.split("/", -1), needsToken, null, route));
    return this;
  }

  /** {@code http.idle.timeout.ms}: a long poll must answer before the connection would idle out. */
  public int idleTimeoutMs() {
    return settings.idleTimeoutMs();
  }

  public int port() {
    return connector.getLocalPort();
  }

  public String url() {
    return "http://" + settings.bind() + ":" + port();
  }

  private void dispatch(Request request, Response response, Callback callback) {
    String path = Request.getPathInContext(request);
    String method = request.getMethod();
    if (path.equals("/healthz")) {
      health(response, callback); // on this thread: answers even when every handler is busy
      return;
    }
    Pattern matched = null;
    Map<String, String> params = null;
    boolean pathKnown = false;
    for (Pattern p : routes) {
      Map<String, String> m = p.match(method, path);
      if (m != null) {
        matched = p;
        params = m;
        break;
      }
      pathKnown |= p.match(p.method(), path) != null;
    }
    if (matched == null) {
      reply(
          response,
          callback,
          pathKnown
              ? Reply.error(405, "method " + method + " not allowed on " + path)
              : Reply.error(404, "no such endpoint: " + path));
      return;
    }
    if (matched.needsToken() && !authorized(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
      reply(
          response,
          callback,
          Reply.error(401, "missing or wrong bearer token: send 'Authorization: Bearer <token>'"));
      return;
    }
    long declared = request.getLength();
    if (declared > settings.maxBodyBytes()) {
      reply(response, callback, tooLarge());
      return;
    }
    Pattern route = matched;
    Map<String, String> callParams = params;
    String remote = Request.getRemoteAddr(request);
    String query = request.getHttpURI().getQuery();
    // asynchronous: a client trickling its body holds no thread, and is cut off at the request
    // timeout
    Content.Source.asByteArrayAsync(request, settings.maxBodyBytes())
        .orTimeout(settings.requestTimeoutMs(), TimeUnit.MILLISECONDS)
        .whenComplete(
            (body, err) -> {
              if (err != null) {
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
                          "request body not received within http.request.timeout.ms = "
                              + settings.requestTimeoutMs()));
                } else if (String.valueOf(cause.getMessage())
                    .toLowerCase(Locale.ROOT)
                    .contains("max")) {
                  reply(response, callback, tooLarge());
                } else {
                  callback.failed(cause);
                }
                return;
              }
              Call call = new Call(method, path, callParams, query, body, remote);
              if (route.async() != null) {
                runAsync(route, call, response, callback);
                return;
              }
              try {
                handlers.execute(() -> run(route, call, response, callback));
              } catch (RejectedExecutionException e) {
                reply(
                    response,
                    callback,
                    Reply.error(
                            503,
                            "busy: every handler thread is in use (http.threads = "
                                + settings.threads()
                                + "); retry")
                        .withHeader("Retry-After", "1"));
              }
            });
  }

  private void runAsync(Pattern route, Call call, Response response, Callback callback) {
    CompletableFuture<Reply> f;
    try {
      f = route.async().handle(call);
    } catch (RuntimeException e) {
      reply(response, callback, Reply.error(500, "internal error: " + e));
      return;
    }
    f.whenComplete(
        (r, e) ->
            reply(response, callback, e == null ? r : Reply.error(500, "internal error: " + e)));
  }

  private void run(Pattern route, Call call, Response response, Callback callback) {
    try {
      reply(response, callback, route.route().handle(call));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      callback.failed(e);
    } catch (Exception e) {
      reply(response, callback, Reply.error(500, "internal error: " + e));
    }
  }

  private Reply tooLarge() {
    return Reply.error(
        413,
        "body exceeds http.max.body.bytes = " + settings.maxBodyBytes() + "; send smaller batches");
  }

  private Reply records(Call call) throws IOException, InterruptedException {
    String refused = refusal.get();
    if (refused != null) {
      return Reply.error(503, "not accepting records: " + refused).withHeader("Retry-After", "1");
    }
    BodySplitter.Split split = BodySplitter.split(call.body());
    if (split.error() != null && split.pieces().isEmpty()) {
      return Reply.json(400, result(0, List.of(new LineError(0, split.error())), false));
    }
    return respond(split, "http " + call.remote());
  }

  private record LineError(int line, String error) {}

  private Reply respond(BodySplitter.Split split, String origin)
      throws IOException, InterruptedException {
    List<BodySplitter.Piece> pieces = split.pieces();
    // Durable acks: the ticket counts every line down once it is in Kafka or the spool (a
    // rejected line's dead letter too), or once it is known never to be queued.
    Ticket ticket = settings.durableAckMs() > 0 ? Ticket.forRecords(pieces.size()) : Ticket.NONE;
    int accepted = 0;
    List<LineError> errors = new ArrayList<>();
    boolean full = false;
    boolean tooLarge = false;
    for (int i = 0; i < pieces.size() && !full; i++) {
      BodySplitter.Piece piece = pieces.get(i);
      Intake.Outcome o = intake.offer(piece.bytes(), origin, ticket, QUEUE_WAIT_MS);
      if (o instanceof Intake.Outcome.Accepted) {
        accepted++;
      } else if (o instanceof Intake.Outcome.Rejected r) {
        errors.add(new LineError(piece.line(), r.reason()));
        tooLarge |= r.tooLarge();
      } else {
        errors.add(
            new LineError(
                piece.line(),
                "queue full: this and later records were not" + " accepted; retry them"));
        full = true;
        for (int j = i; j < pieces.size(); j++) {
          ticket.done(); // never queued
        }
      }
    }
    if (settings.durableAckMs() > 0 && !ticket.await(settings.durableAckMs())) {
      // "accepted": 0 tells the client to send the whole request again: at least once. The
      // records may still arrive from the queue; duplicates are ignored by step downstream.
      return Reply.json(
              503,
              result(
                  0,
                  List.of(
                      new LineError(
                          0,
                          ticket.pending()
                              + " records not yet in Kafka or"
                              + " the spool after "
                              + settings.durableAckMs()
                              + " ms (http.ack.durable.ms): send them again")),
                  true))
          .withHeader("Retry-After", "1");
    }
    if (full) {
      return Reply.json(503, result(accepted, errors, true)).withHeader("Retry-After", "1");
    }
    if (split.error() != null) {
      errors.add(new LineError(pieces.size() + 1, split.error()));
    }
    return Reply.json(
        errors.isEmpty() ? 202 : tooLarge ? 413 : 400, result(accepted, errors, false));
  }

  private void health(Response response, Callback callback) {
    String refused = refusal.get();
    boolean down = kafkaDown.getAsBoolean();
    String body =
        "{\"status\":\""
            + (refused == null ? "ok" : "refusing")
            + "\",\"kafka\":\""
            + (down ? "unreachable, spooling" : "ok")
            + "\""
            + (refused == null ? "" : ",\"reason\":" + quote(refused))
            + "}";
    reply(
        response,
        callback,
        Reply.json(refused == null ? 200 : 503, body.getBytes(StandardCharsets.UTF_8)));
  }

  private static String quote(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeString(s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private boolean authorized(String header) {
    return token == null
        || (header != null
            && MessageDigest.isEqual(token, header.getBytes(StandardCharsets.UTF_8)));
  }

  private static void reply(Response response, Callback callback, Reply r) {
    response.setStatus(r.status());
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, r.contentType());
    r.headers().forEach((k, v) -> response.getHeaders().put(k, v));
    response.write(true, ByteBuffer.wrap(r.body()), callback);
  }

  private static byte[] result(int accepted, List<LineError> errors, boolean retry)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeNumberField("accepted", accepted);
      g.writeArrayFieldStart("rejected");
      for (LineError e : errors) {
        g.writeStartObject();
        g.writeNumberField("line", e.line());
        g.writeStringField("error", e.error());
        g.writeEndObject();
      }
      g.writeEndArray();
      if (retry) {
        g.writeBooleanField("retry", true);
      }
      g.writeEndObject();
    }
    return out.toByteArray();
  }

  static byte[] error(String message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("error", message);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      // shutting down: nothing left to serve
    }
    handlers.shutdownNow();
  }
}
