package dev.trainwatch.alerts;

import dev.trainwatch.alerts.api.ApiServer;
import dev.trainwatch.alerts.config.AlertsConfig;
import dev.trainwatch.alerts.config.Receiver;
import dev.trainwatch.alerts.dispatch.Dispatcher;
import dev.trainwatch.alerts.dispatch.RouteNode;
import dev.trainwatch.alerts.inhibit.Inhibitor;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.model.AlertLinks;
import dev.trainwatch.alerts.nflog.Journal;
import dev.trainwatch.alerts.nflog.NflogEntry;
import dev.trainwatch.alerts.nflog.NotificationLog;
import dev.trainwatch.alerts.notify.Backoff;
import dev.trainwatch.alerts.notify.NotificationPipeline;
import dev.trainwatch.alerts.notify.Notifier;
import dev.trainwatch.alerts.notify.Notifiers;
import dev.trainwatch.alerts.notify.RetryStage;
import dev.trainwatch.alerts.silence.Silence;
import dev.trainwatch.alerts.silence.Silences;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.DoubleSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The alerts service: consumes the alerts topic and delivers notifications the way Prometheus
 * Alertmanager does (grouping, inhibition, silences, dedup, retry, resolved notifications), with
 * nothing lost across restarts.
 *
 * <p>Guarantees: at-least-once delivery to each receiver, and no re-send of a notification whose
 * delivery was recorded (the notification log is fsynced right after each successful send). Kafka
 * offsets are committed only after the notifications caused by those records were delivered or
 * dead-lettered. A send that is cut off between the receiver's 2xx and the log write is the one
 * case that is sent twice.
 *
 * <pre>{@code
 * AlertsConfig cfg = ConfigLoader.load(Path.of("alerts.yaml"), System.getenv());
 * try (AlertsService s = AlertsService.start(cfg, "localhost:9092")) {
 *   System.out.println("API on port " + s.httpPort());
 * }
 * }</pre>
 */
public final class AlertsService implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(AlertsService.class);

  private final Journal journal;
  private final KafkaProducer<String, byte[]> producer;
  private final ApiServer api;
  private final DispatchLoop loop;
  private final Thread loopThread;
  private final AlertsMetrics metrics;

  private AlertsService(Builder b) throws Exception {
    AlertsConfig c = b.config;
    InstantSource clock = b.clock;
    this.metrics = new AlertsMetrics();
    // every series exists from the start, so rate() and alerts on it work before the first failure
    c.receivers()
        .keySet()
        .forEach(
            r -> {
              for (AlertsMetrics.Counter counter : AlertsMetrics.Counter.values()) {
                metrics.add(counter, r, 0);
              }
            });
    this.journal = Journal.open(c.state().dir());
    Journal.Snapshot restored = journal.restored();
    Silences silences = new Silences(journal::appendSilence);
    restored.silences().values().forEach(silences::restore);
    for (int i = 0; i < c.silences().size(); i++) {
      var s = c.silences().get(i);
      silences.restore(
          new Silence(
              "config-" + i, s.matchers(), s.startsAt(), s.endsAt(), s.createdBy(), s.comment()));
    }
    Dispatcher dispatcher =
        new Dispatcher(
            RouteNode.of(c.route()),
            new Inhibitor(c.inhibitRules()),
            silences,
            new Dispatcher.StateSink() {
              public void put(Alert a) {
                journal.appendAlert(a);
              }

              public void gone(String fp, String source, long step) {
                journal.appendGone(fp, source, step);
              }
            },
            c.receivers().values().stream()
                .filter(Receiver::forwardsEverything)
                .map(Receiver::name)
                .toList(),
            c.tagLabels());
    dispatcher.restore(restored.alerts(), restored.tombstones(), clock.instant());
    NotificationLog nflog = new NotificationLog(journal, restored.nflog().values());
    KafkaClients.ensureDeadLetterTopic(c.kafka());
    this.producer = KafkaClients.producer(c.kafka());
    String dlTopic = c.kafka().deadLetterTopic();
    NotificationPipeline.DeadLetters deadLetters =
        d ->
            producer
                .send(new ProducerRecord<>(dlTopic, d.run(), d.toJson()))
                .get(30, TimeUnit.SECONDS);
    AlertLinks links = new AlertLinks(c.links());
    AtomicReference<List<Dispatcher.AlertStatus>> view = new AtomicReference<>(List.of());
    this.api = new ApiServer(c.http(), silences, view::get, links, metrics, clock, this::healthy);
    Map<String, Notifier> notifiers = new LinkedHashMap<>();
    c.receivers()
        .values()
        .forEach(r -> notifiers.put(r.name(), Notifiers.create(r, b.httpClient, b.stdout)));
    RetryStage retry =
        new RetryStage(c.retry(), new Backoff(c.retry(), b.random), clock, b.sleeper, metrics);
    String externalUrl = "http://" + c.http().listen() + ":" + api.port();
    NotificationPipeline pipeline =
        new NotificationPipeline(
            c.receivers(), notifiers, nflog, retry, deadLetters, metrics, externalUrl, links);
    ExecutorService pool = deliveryPool(b.deliveryThreads);
    AlertmanagerResender resender =
        new AlertmanagerResender(
            c.receivers(), notifiers, nflog, pool, metrics, links, externalUrl);
    this.loop =
        new DispatchLoop(
            KafkaClients.consumer(c.kafka()),
            c.kafka().topic(),
            dispatcher,
            pipeline,
            deadLetters,
            journal,
            pool,
            clock,
            metrics,
            () -> snapshot(dispatcher, nflog, silences),
            resender,
            view::set);
    this.loopThread = new Thread(loop, "alerts-dispatch");
    loopThread.start();
    LOG.info(
        "alerts service consuming {} from {}, API on {}:{}, state in {}",
        c.kafka().topic(),
        c.kafka().bootstrapServers(),
        c.http().listen(),
        api.port(),
        c.state().dir());
  }

  /** Current state for journal compaction; called on the dispatch thread. */
  private static Journal.Snapshot snapshot(Dispatcher d, NotificationLog nflog, Silences silences) {
    // a log entry outlives its group by a day: enough for any redelivery to find it
    nflog.gc(d.groupKeys(), Instant.now(), Duration.ofDays(1));
    Map<String, NflogEntry> log = new LinkedHashMap<>();
    nflog.all().forEach(e -> log.put(e.key(), e));
    Map<String, Silence> sil = new LinkedHashMap<>();
    silences.all().stream()
        .filter(s -> !s.id().startsWith("config-"))
        .forEach(s -> sil.put(s.id(), s));
    return new Journal.Snapshot(d.alerts(), d.tombstones(), log, sil);
  }

  private static ExecutorService deliveryPool(int threads) {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(
        threads,
        r -> {
          Thread t = new Thread(r, "alerts-deliver-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  /** Starts with the given config, consuming from {@code bootstrapServers} (overrides the file). */
  public static AlertsService start(AlertsConfig config, String bootstrapServers) throws Exception {
    return builder(config.withBootstrapServers(bootstrapServers)).start();
  }

  public static Builder builder(AlertsConfig config) {
    return new Builder(config);
  }

  /** The port the API listens on (the bound one when configured as 0). */
  public int httpPort() {
    return api.port();
  }

  public AlertsMetrics metrics() {
    return metrics;
  }

  public boolean healthy() {
    return loop.running();
  }

  /** Stops consuming, aborts deliveries in progress (they are retried after restart), commits. */
  @Override
  public void close() throws Exception {
    loop.stop();
    loopThread.join(30_000);
    api.close();
    producer.close(Duration.ofSeconds(5));
    journal.close();
  }

  /** Options beyond the config file, mostly for tests and embedding. */
  public static final class Builder {
    private final AlertsConfig config;
    private InstantSource clock = InstantSource.system();
    private PrintStream stdout = System.out;
    private RetryStage.Sleeper sleeper = d -> Thread.sleep(d.toMillis());
    private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();
    private HttpClient httpClient =
        HttpClient.newBuilder()
            // HTTP/1.1: an h2c upgrade attempt on every plain-http request only costs time here
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private int deliveryThreads = 4;

    private Builder(AlertsConfig config) {
      this.config = config;
    }

    public Builder clock(InstantSource c) {
      this.clock = c;
      return this;
    }

    public Builder stdout(PrintStream out) {
      this.stdout = out;
      return this;
    }

    public Builder sleeper(RetryStage.Sleeper s) {
      this.sleeper = s;
      return this;
    }

    public Builder httpClient(HttpClient c) {
      this.httpClient = c;
      return this;
    }

    public Builder deliveryThreads(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("deliveryThreads must be >= 1");
      }
      this.deliveryThreads = n;
      return this;
    }

    public AlertsService start() throws Exception {
      return new AlertsService(this);
    }
  }

  /** Blocks until the dispatch loop ends: after {@link #close()} or when it failed. */
  public void awaitTermination() throws InterruptedException {
    loopThread.join();
  }

  /** {@code java -jar trainwatch-alerts.jar --config alerts.yaml}; see {@link AlertsCommand}. */
  public static void main(String[] args) {
    System.exit(AlertsCommand.execute(args));
  }
}
