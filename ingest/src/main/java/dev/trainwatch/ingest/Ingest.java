package dev.trainwatch.ingest;

import dev.trainwatch.ingest.alerts.AlertsFollower;
import dev.trainwatch.ingest.alerts.AlertsRoute;
import dev.trainwatch.ingest.alerts.RunAlerts;
import dev.trainwatch.ingest.config.IngestConfig;
import dev.trainwatch.ingest.http.HttpIntake;
import dev.trainwatch.ingest.kafka.Forwarder;
import dev.trainwatch.ingest.kafka.KafkaProbe;
import dev.trainwatch.ingest.kafka.ProducerSettings;
import dev.trainwatch.ingest.pipeline.IngestMetrics;
import dev.trainwatch.ingest.pipeline.Intake;
import dev.trainwatch.ingest.pipeline.Outgoing;
import dev.trainwatch.ingest.pipeline.OutgoingQueue;
import dev.trainwatch.ingest.spool.Spool;
import dev.trainwatch.ingest.tail.FileTailer;
import dev.trainwatch.ingest.tail.LineSink;
import dev.trainwatch.ingest.tail.StdinReader;
import dev.trainwatch.wire.TelemetryParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The sidecar, wired from its configuration: inputs (HTTP, file tail, stdin) -> {@link Intake} ->
 * bounded queue -> {@link Forwarder} -> Kafka, or the disk spool while Kafka is away.
 *
 * <pre>{@code
 * try (Ingest ingest = Ingest.start(IngestConfig.of(Map.of("http.port", "0",
 *     "kafka.bootstrap.servers", bootstrap, "spool.dir", dir)), System.in)) {
 *   post(ingest.httpUrl() + "/v1/records", lines);
 * }
 * }</pre>
 */
public final class Ingest implements AutoCloseable {

  private final IngestMetrics metrics = new IngestMetrics();
  private final List<Thread> threads = new ArrayList<>();
  private final CountDownLatch stdinDone = new CountDownLatch(1);
  private KafkaProducer<String, byte[]> producer;
  private KafkaProbe probe;
  private Spool spool;
  private Forwarder forwarder;
  private HttpIntake http;
  private FileTailer tailer;
  private AlertsFollower alertsFollower;
  private AlertsRoute alertsRoute;
  private Thread forwarderThread;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Ingest() {}

  public static Ingest start(IngestConfig c, InputStream stdin) throws IOException {
    Ingest i = new Ingest();
    try {
      i.wire(c, stdin);
    } catch (IOException | RuntimeException e) {
      i.close();
      throw e;
    }
    return i;
  }

  private void wire(IngestConfig c, InputStream stdin) throws IOException {
    int maxRecord = c.getInt(IngestConfig.RECORD_MAX_BYTES);
    TelemetryParser parser =
        new TelemetryParser(TelemetryParser.Limits.DEFAULT.withMaxBytes(maxRecord));
    BlockingQueue<Outgoing> queue =
        new OutgoingQueue(
            c.getInt(IngestConfig.QUEUE_CAPACITY), c.getLong(IngestConfig.QUEUE_MAX_BYTES));
    Intake intake =
        new Intake(
            parser,
            queue,
            c.getString(IngestConfig.TOPIC),
            c.getString(IngestConfig.DEAD_LETTER_TOPIC),
            metrics,
            InstantSource.system(),
            c.getBoolean(IngestConfig.TOPIC_BINARY));
    Path spoolDir = Path.of(c.getString(IngestConfig.SPOOL_DIR));
    spool =
        new Spool(
            spoolDir,
            c.getLong(IngestConfig.SPOOL_SEGMENT_BYTES),
            c.getLong(IngestConfig.SPOOL_MAX_BYTES));
    Properties ps = ProducerSettings.from(c);
    producer = new KafkaProducer<>(ps);
    probe =
        new KafkaProbe(
            ps,
            Math.min(
                2000,
                Integer.parseInt(
                    ps.getProperty(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000"))));
    forwarder =
        new Forwarder(
            queue, producer, spool, metrics, probe, c.getInt(IngestConfig.PROBE_INTERVAL_MS));
    forwarderThread = thread("ingest-forwarder", forwarder, false);

    int port = c.getInt(IngestConfig.HTTP_PORT);
    if (port >= 0) {
      http =
          new HttpIntake(
              new HttpIntake.Settings(
                  c.getString(IngestConfig.HTTP_BIND),
                  port,
                  c.getString(IngestConfig.HTTP_TOKEN),
                  c.getInt(IngestConfig.HTTP_MAX_BODY_BYTES),
                  c.getInt(IngestConfig.HTTP_ACK_DURABLE_MS),
                  c.getInt(IngestConfig.HTTP_THREADS),
                  c.getInt(IngestConfig.HTTP_IDLE_TIMEOUT_MS),
                  c.getInt(IngestConfig.HTTP_REQUEST_TIMEOUT_MS),
                  c.getInt(IngestConfig.HTTP_MAX_CONNECTIONS)),
              intake,
              metrics,
              forwarder::kafkaDown,
              forwarder::refusal);
    }
    if (http != null && c.getBoolean(IngestConfig.ALERTS_FEED)) {
      // alerts back to the training processes: GET /v1/runs/{run}/alerts, fed from the alerts topic
      RunAlerts runAlerts =
          new RunAlerts(
              Long.toHexString(new SecureRandom().nextLong()),
              c.getInt(IngestConfig.ALERTS_MAX_RUNS));
      alertsFollower =
          new AlertsFollower(
              c.kafkaConsumerSettings(),
              c.getString(IngestConfig.ALERTS_TOPIC),
              c.getLong(IngestConfig.ALERTS_LOOKBACK_MS),
              runAlerts);
      thread("ingest-alerts-feed", alertsFollower, true);
      alertsRoute = new AlertsRoute(runAlerts, c.getInt(IngestConfig.ALERTS_MAX_WAIT_MS));
      http.routeAsync("GET", "/v1/runs/{run}/alerts", true, alertsRoute::handle);
    }
    String tail = c.getString(IngestConfig.TAIL_FILE);
    if (tail != null && !tail.isBlank()) {
      String cp = c.getString(IngestConfig.TAIL_CHECKPOINT);
      tailer =
          new FileTailer(
              Path.of(tail),
              cp != null ? Path.of(cp) : spoolDir.resolve("tail.checkpoint"),
              new LineSink(intake, "file " + tail),
              maxRecord,
              c.getInt(IngestConfig.TAIL_POLL_MS),
              metrics.rejected::inc);
      thread("ingest-tail", tailer, true);
    }
    if (c.getBoolean(IngestConfig.STDIN)) {
      thread(
          "ingest-stdin",
          new StdinReader(
              stdin,
              new LineSink(intake, "stdin"),
              maxRecord,
              metrics.rejected::inc,
              stdinDone::countDown),
          true);
    } else {
      stdinDone.countDown();
    }
  }

  private Thread thread(String name, Runnable r, boolean daemon) {
    Thread t = new Thread(r, name);
    t.setDaemon(daemon);
    t.start();
    threads.add(t);
    return t;
  }

  /**
   * The HTTP server, to add routes to ({@link HttpIntake#route}); null when the HTTP input is
   * disabled.
   */
  public HttpIntake http() {
    return http;
  }

  /** The HTTP input's base URL, or null when it is disabled. */
  public String httpUrl() {
    return http == null ? null : http.url();
  }

  public IngestMetrics metrics() {
    return metrics;
  }

  public boolean kafkaDown() {
    return forwarder != null && forwarder.kafkaDown();
  }

  public boolean hasHttp() {
    return http != null;
  }

  public boolean hasTail() {
    return tailer != null;
  }

  /** Waits until standard input has been read to its end (immediately if stdin is off). */
  public void awaitStdin() throws InterruptedException {
    stdinDone.await();
  }

  /** Stops the inputs, hands everything queued to Kafka or the spool, then closes. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (http != null) {
      http.close();
    }
    if (alertsRoute != null) {
      alertsRoute.close();
    }
    if (alertsFollower != null) {
      alertsFollower.close();
    }
    if (tailer != null) {
      tailer.stop();
    }
    try {
      if (forwarder != null) {
        forwarder.stop(Duration.ofSeconds(30));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (producer != null) {
      producer.close(Duration.ofSeconds(10)); // failures in flight still reach the spool
    }
    if (probe != null) {
      probe.close();
    }
    try {
      if (spool != null) {
        spool.close();
      }
    } catch (IOException ignored) {
      // nothing left to do at shutdown
    }
  }
}
