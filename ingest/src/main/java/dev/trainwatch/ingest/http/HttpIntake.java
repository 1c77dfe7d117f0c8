package dev.trainwatch.ingest.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.trainwatch.ingest.pipeline.IngestMetrics;
import dev.trainwatch.ingest.pipeline.Intake;
import dev.trainwatch.ingest.pipeline.Ticket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * The HTTP input, on the JDK's built-in server: {@code POST /v1/records} (one record, a JSON
 * array or JSON Lines), {@code GET /healthz}, {@code GET /metrics} (Prometheus text).
 *
 * <p>Answers 202 {@code {"accepted":N,"rejected":[]}} when every record is valid; 400 with the
 * same body when some are not: valid records of the batch are still accepted, and each
 * rejected one is named by its 1-based line (element) number and the reason, which names the
 * field. 413 for a body over the limit, 401 without the bearer token (when one is set), 503
 * when the memory queue is full (retry after a second). Binds to loopback unless told otherwise.
 */
public final class HttpIntake implements AutoCloseable {

  private static final JsonFactory JSON = new JsonFactory();
  private static final long QUEUE_WAIT_MS = 200;

  private final HttpServer server;
  private final ExecutorService executor;
  private final Intake intake;
  private final IngestMetrics metrics;
  private final byte[] token;
  private final int maxBodyBytes;
  private final int durableAckMs;
  private final BooleanSupplier kafkaDown;

  /**
   * @param durableAckMs 0: answer once the records are queued in memory; > 0: answer once each
   *     is in Kafka or the spool, waiting at most this long ({@code http.ack.durable.ms})
   */
  public HttpIntake(String bind, int port, String token, int maxBodyBytes, int durableAckMs, Intake intake,
      IngestMetrics metrics, BooleanSupplier kafkaDown) throws IOException {
    if (durableAckMs < 0) {
      throw new IllegalArgumentException("http.ack.durable.ms must be >= 0, got " + durableAckMs);
    }
    this.durableAckMs = durableAckMs;
    this.intake = intake;
    this.metrics = metrics;
    this.token = token == null || token.isEmpty() ? null : ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
    this.maxBodyBytes = maxBodyBytes;
    this.kafkaDown = kafkaDown;
    this.server = HttpServer.create(new InetSocketAddress(bind, port), 64);
    this.executor = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "ingest-http");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/v1/records", this::records);
    server.createContext("/healthz", this::health);
    server.createContext("/metrics", this::metrics);
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public String url() {
    return "http://" + server.getAddress().getHostString() + ":" + port();
  }

  private void records(HttpExchange ex) throws IOException {
    try (ex) {
      if (!"POST".equals(ex.getRequestMethod())) {
        send(ex, 405, error("use POST"));
        return;
      }
      if (!authorized(ex)) {
        send(ex, 401, error("missing or wrong bearer token: send 'Authorization: Bearer <token>'"));
        return;
      }
      byte[] body = readLimited(ex.getRequestBody(), maxBodyBytes);
      if (body == null) {
        send(ex, 413, error("body exceeds http.max.body.bytes = " + maxBodyBytes
            + "; send smaller batches"));
        return;
      }
      BodySplitter.Split split = BodySplitter.split(body);
      if (split.error() != null && split.pieces().isEmpty()) {
        send(ex, 400, result(0, List.of(new LineError(0, split.error())), false));
        return;
      }
      respond(ex, split, "http " + ex.getRemoteAddress().getAddress().getHostAddress());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private record LineError(int line, String error) {}

  private void respond(HttpExchange ex, BodySplitter.Split split, String origin)
      throws IOException, InterruptedException {
    List<BodySplitter.Piece> pieces = split.pieces();
    // Durable acks: the ticket counts every line down once it is in Kafka or the spool (a
    // rejected line's dead letter too), or once it is known never to be queued.
    Ticket ticket = durableAckMs > 0 ? Ticket.forRecords(pieces.size()) : Ticket.NONE;
    int accepted = 0;
    List<LineError> errors = new ArrayList<>();
    boolean full = false;
    for (int i = 0; i < pieces.size() && !full; i++) {
      BodySplitter.Piece piece = pieces.get(i);
      Intake.Outcome o = intake.offer(piece.bytes(), origin, ticket, QUEUE_WAIT_MS);
      if (o instanceof Intake.Outcome.Accepted) {
        accepted++;
      } else if (o instanceof Intake.Outcome.Rejected r) {
        errors.add(new LineError(piece.line(), r.reason()));
      } else {
        errors.add(new LineError(piece.line(), "queue full: this and later records were not"
            + " accepted; retry them"));
        full = true;
        for (int j = i; j < pieces.size(); j++) {
          ticket.done(); // never queued
        }
      }
    }
    if (durableAckMs > 0 && !ticket.await(durableAckMs)) {
      // "accepted": 0 tells the client to send the whole request again: at least once. The
      // records may still arrive from the queue; duplicates are ignored by step downstream.
      ex.getResponseHeaders().set("Retry-After", "1");
      send(ex, 503, result(0, List.of(new LineError(0, ticket.pending() + " records not yet in Kafka or"
          + " the spool after " + durableAckMs + " ms (http.ack.durable.ms): send them again")), true));
      return;
    }
    if (full) {
      ex.getResponseHeaders().set("Retry-After", "1");
      send(ex, 503, result(accepted, errors, true));
      return;
    }
    if (split.error() != null) {
      errors.add(new LineError(pieces.size() + 1, split.error()));
    }
    send(ex, errors.isEmpty() ? 202 : 400, result(accepted, errors, false));
  }

  private void health(HttpExchange ex) throws IOException {
    try (ex) {
      boolean down = kafkaDown.getAsBoolean();
      send(ex, 200, ("{\"status\":\"ok\",\"kafka\":\"" + (down ? "unreachable, spooling" : "ok")
          + "\"}").getBytes(StandardCharsets.UTF_8));
    }
  }

  private void metrics(HttpExchange ex) throws IOException {
    try (ex) {
      if (!authorized(ex)) {
        send(ex, 401, error("missing or wrong bearer token"));
        return;
      }
      byte[] b = metrics.prometheus().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
      ex.sendResponseHeaders(200, b.length);
      ex.getResponseBody().write(b);
    }
  }

  private boolean authorized(HttpExchange ex) {
    if (token == null) {
      return true;
    }
    String h = ex.getRequestHeaders().getFirst("Authorization");
    return h != null && MessageDigest.isEqual(token, h.getBytes(StandardCharsets.UTF_8));
  }

  /** The body, or null when it is longer than {@code max}. */
  private static byte[] readLimited(InputStream in, int max) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    byte[] buf = new byte[16384];
    int n;
    while ((n = in.read(buf)) > 0) {
      if (out.size() + n > max) {
        in.transferTo(OutputStream.nullOutputStream()); // let the client read our answer
        return null;
      }
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }

  private static byte[] result(int accepted, List<LineError> errors, boolean retry) throws IOException {
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

  private static byte[] error(String message) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("error", message);
      g.writeEndObject();
    }
    return out.toByteArray();
  }

  private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, body.length);
    ex.getResponseBody().write(body);
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
