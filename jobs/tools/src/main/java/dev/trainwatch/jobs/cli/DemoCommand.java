package dev.trainwatch.jobs.cli;

import dev.trainwatch.alerts.AlertsService;
import dev.trainwatch.alerts.config.ConfigLoader;
import dev.trainwatch.embedded.PersistentKafka;
import dev.trainwatch.ingest.Ingest;
import dev.trainwatch.ingest.config.IngestConfig;
import dev.trainwatch.jobs.demo.DemoRecording;
import dev.trainwatch.jobs.demo.SidecarPlayer;
import dev.trainwatch.jobs.flink.JobConfig;
import dev.trainwatch.jobs.flink.TrainwatchJob;
import dev.trainwatch.jobs.replay.Replay;
import dev.trainwatch.jobs.storage.StorageTopology;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.Topics;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainwatch demo}: the whole embedded stack on the telemetry of real training runs. Six
 * recorded PyTorch runs ({@link DemoRecording}: a collapsing modular-addition MLP and its
 * weight-decay twin, two diverging learning rates and a healthy one, a continual-learning sequence,
 * recorded with the project's Python client) are played, side by side at a total rate, into the
 * sidecar's HTTP intake ({@link Ingest}, in this JVM, over loopback HTTP), which produces them to a
 * real Kafka broker; the detection job on a local Flink cluster reads them, alerts are printed as
 * they fire and the alerts service delivers the notifications.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Run the embedded stack (sidecar + Kafka + Flink in one JVM) on recorded PyTorch runs and print alerts as they fire.")
final class DemoCommand implements Callable<Integer> {

  /** group_interval of the demo's alert route ({@link ConfigLoader#demo}). */
  private static final Duration DEMO_GROUP_INTERVAL = Duration.ofSeconds(10);

  @Option(
      names = "--rate",
      defaultValue = "120",
      description = "telemetry records per second over all runs (default ${DEFAULT-VALUE})")
  double rate;

  @Option(
      names = "--notifications",
      defaultValue = "trainwatch-demo-notifications.jsonl",
      description =
          "file the demo's webhook receiver appends notifications to (default ${DEFAULT-VALUE})")
  Path notifications;

  @Override
  public Integer call() throws Exception {
    Checks.positive("--rate", rate);
    List<DemoRecording> runs = DemoRecording.standard();
    System.out.println(
        "trainwatch demo: starting an embedded Kafka broker and a local Flink cluster...");
    Path stateDir = Files.createTempDirectory("trainwatch-demo-alerts-");
    Path spoolDir = Files.createTempDirectory("trainwatch-demo-spool-");
    try (PersistentKafka kafka = PersistentKafka.startTemporary();
        LocalStorage storage = LocalStorage.resolve(Map.of(), System.getenv()).orElse(null)) {
      Topics topics = Topics.DEFAULT;
      kafka.createTopics(
          Map.of(
              topics.telemetry(),
              4,
              topics.alerts(),
              2,
              topics.deadLetter(),
              1,
              topics.metrics(),
              2));
      JobConfig config =
          JobConfig.of(
              Map.of(
                  "kafka.bootstrap.servers",
                  kafka.bootstrapServers(),
                  "checkpoint.interval.ms",
                  "1000",
                  "source.starting-offsets",
                  "earliest",
                  "job.name",
                  "trainwatch-demo",
                  "checkpoint.dir",
                  stateDir
                      .resolve("checkpoints")
                      .toString())); // a one-off run: beside its other temporary state
      StreamExecutionEnvironment env = Replay.localEnvironment(2);
      TrainwatchJob.configure(env, config);
      TrainwatchJob.fromConfig(config, false)
          .build(
              env,
              (records, alerts, metrics) -> {
                if (storage != null) {
                  StorageTopology.attach(records, alerts, metrics, storage.config());
                }
              });
      JobClient job = env.executeAsync("trainwatch-demo");
      System.out.println(
          storage == null
              ? "storage: none (set TRAINWATCH_INFLUX_URL or install influxdb to store metrics)"
              : "storage: InfluxDB at "
                  + storage.config().url()
                  + (storage.isLocal() ? " (local, temporary)" : ""));
      AlertsService notifier =
          AlertsService.start(
              ConfigLoader.demo(kafka.bootstrapServers(), stateDir, notifications),
              kafka.bootstrapServers());
      System.out.println(
          "alerts service: notifications printed below (trainwatch alert ...) and appended to "
              + notifications
              + "; active alerts on http://127.0.0.1:"
              + notifier.httpPort()
              + "/api/v2/alerts (amtool --alertmanager.url)");

      Map<String, Integer> firing = new ConcurrentHashMap<>();
      AtomicLong events = new AtomicLong();
      AtomicBoolean stop = new AtomicBoolean();
      Thread printer =
          new Thread(
              () -> printAlerts(kafka.bootstrapServers(), topics.alerts(), stop, firing, events),
              "alert-printer");
      printer.start();

      SidecarPlayer.Result played;
      long produced;
      try (Ingest sidecar =
          Ingest.start(
              IngestConfig.of(
                  Map.of(
                      "http.port",
                      "0",
                      "kafka.bootstrap.servers",
                      kafka.bootstrapServers(),
                      "topic",
                      topics.telemetry(),
                      "dead.letter.topic",
                      topics.deadLetter(),
                      "spool.dir",
                      spoolDir.toString())),
              InputStream.nullInputStream())) {
        System.out.printf(
            Locale.ROOT,
            "sidecar: %s/v1/records; playing %d recorded PyTorch runs into it at %.0f records/s:%n",
            sidecar.httpUrl(),
            runs.size(),
            rate);
        for (DemoRecording r : runs) {
          System.out.printf(Locale.ROOT, "  %-24s %-17s %5d steps%n", r.run(), r.kind(), r.steps());
        }
        played = new SidecarPlayer(sidecar.httpUrl(), InstantSource.system()).play(runs, rate);
        sidecar.close(); // hands everything it accepted to Kafka
        produced = sidecar.metrics().sent.getLongValue();
      }
      Thread.sleep(Duration.ofSeconds(4).toMillis()); // the last checkpoint commits the last alerts
      awaitNotifications(notifier, events);
      stop.set(true);
      printer.join();
      notifier.close();
      job.cancel().get();

      System.out.printf(
          Locale.ROOT,
          "%ndone: %d records posted to the sidecar in %d requests (%d accepted, %d rejected),"
              + " %d produced to Kafka. Firing alerts per run:%n",
          played.posted(),
          played.requests(),
          played.accepted(),
          played.rejected(),
          produced);
      for (DemoRecording r : runs) {
        System.out.printf(
            Locale.ROOT, "  %-24s %-17s %d%n", r.run(), r.kind(), firing.getOrDefault(r.run(), 0));
      }
    }
    return 0;
  }

  /**
   * Lets the alerts service deliver what the last alerts changed: it has read every alert the
   * printer saw (at most 10 s more), then one group_interval of the demo's route (10 s, {@link
   * ConfigLoader#demo}) passes, within which every group with news is flushed.
   */
  private static void awaitNotifications(AlertsService notifier, AtomicLong events)
      throws InterruptedException {
    System.out.println(
        "waiting for the alerts service to deliver the last notifications (group_interval 10 s)...");
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (notifier.metrics().get("trainwatch_alerts_received_total") < events.get()
        && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    Thread.sleep(DEMO_GROUP_INTERVAL.plusSeconds(1).toMillis());
  }

  private static void printAlerts(
      String bootstrap,
      String topic,
      AtomicBoolean stop,
      Map<String, Integer> firing,
      AtomicLong events) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "trainwatch-demo-printer");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      while (!stop.get()) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          AlertEvent a = AlertJson.parse(r.value());
          events.incrementAndGet();
          if (a.status() == Status.FIRING) {
            firing.merge(a.run(), 1, Integer::sum);
          }
          System.out.printf(
              Locale.ROOT,
              "ALERT %-8s %-8s %-24s step %5d  %s/%s%s: %s%n",
              a.status().wire(),
              a.severity().wire(),
              a.run(),
              a.step(),
              a.family().wire(),
              a.detector(),
              a.affectedTask() == null ? "" : " [" + a.affectedTask() + "]",
              a.summary());
        }
      }
    }
  }
}
