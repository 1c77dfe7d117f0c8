package dev.trainwatch.alerts;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * A real HTTP receiver (JDK HttpServer on loopback) scripted to fail the first N requests with a
 * status, to answer slowly, or to always answer a fixed status. Records every request.
 */
public final class TestReceiver implements AutoCloseable {

  /** One received request. */
  public record Request(String body, Map<String, List<String>> headers, int answeredWith) {
    public String header(String name) {
      for (var e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) {
          return e.getValue().get(0);
        }
      }
      return null;
    }
  }

  static {
    // without TCP_NODELAY the JDK server's small writes meet delayed ACKs: ~40 ms per request
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private final HttpServer server;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger failuresLeft = new AtomicInteger();
  private volatile int failStatus = 503;
  private volatile int okStatus = 200;
  private volatile Duration delay = Duration.ZERO;

  public TestReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    server.setExecutor(
        Executors.newFixedThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "test-receiver");
              t.setDaemon(true);
              return t;
            }));
    server.createContext(
        "/",
        ex -> {
          byte[] body = ex.getRequestBody().readAllBytes();
          if (!delay.isZero()) {
            try {
              Thread.sleep(delay.toMillis());
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          int status = failuresLeft.getAndDecrement() > 0 ? failStatus : okStatus;
          requests.add(
              new Request(
                  new String(body, StandardCharsets.UTF_8),
                  Map.copyOf(ex.getRequestHeaders()),
                  status));
          byte[] reply = (status < 300 ? "ok" : "nope " + status).getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(status, reply.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(reply);
          }
        });
    server.start();
  }

  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
  }

  public TestReceiver failFirst(int n, int status) {
    failuresLeft.set(n);
    failStatus = status;
    return this;
  }

  public TestReceiver answer(int status) {
    okStatus = status;
    return this;
  }

  public TestReceiver delay(Duration d) {
    delay = d;
    return this;
  }

  public List<Request> requests() {
    return List.copyOf(requests);
  }

  public List<Request> delivered() {
    return requests.stream().filter(r -> r.answeredWith() / 100 == 2).toList();
  }

  /** Polls until the condition holds or the deadline passes; never hangs a test. */
  public static void await(Duration max, BooleanSupplier cond, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + max.toMillis() + " ms waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
