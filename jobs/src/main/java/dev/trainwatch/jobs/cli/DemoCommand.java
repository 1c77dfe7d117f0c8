package dev.trainwatch.jobs.cli;

import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.jobs.demo.DemoPublisher;
import dev.trainwatch.jobs.demo.DemoRun;
import dev.trainwatch.jobs.demo.DemoScenario;
import dev.trainwatch.jobs.flink.JobConfig;
import dev.trainwatch.jobs.flink.TrainwatchJob;
import dev.trainwatch.jobs.replay.Replay;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.Topics;
import dev.trainwatch.alerts.AlertsService;
import dev.trainwatch.alerts.config.ConfigLoader;
import dev.trainwatch.jobs.storage.LocalStorage;
import dev.trainwatch.jobs.storage.StorageTopology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainwatch demo}: the whole embedded stack on live telemetry. Tiny models train in
 * this JVM (a collapsing modular-addition MLP and its weight-decay twin, diverging learning
 * rates and their healthy twin, a continual-learning sequence); their telemetry goes through
 * a real Kafka broker into the detection job on a local Flink cluster, and alerts are
 * printed as they fire.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the embedded stack (Kafka + Flink in one JVM) on live training telemetry and print alerts as they fire.")
final class DemoCommand implements Callable<Integer> {

  @Option(names = "--rate", defaultValue = "120", description = "telemetry records per second over all runs (default ${DEFAULT-VALUE})")
  double rate;

  @Option(names = "--seed", defaultValue = "1", description = "training seed (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--notifications", defaultValue = "trainwatch-demo-notifications.jsonl",
      description = "file the demo's webhook receiver appends notifications to (default ${DEFAULT-VALUE})")
  Path notifications;

  @Override
  public Integer call() throws Exception {
    Checks.positive("--rate", rate);
    List<DemoRun> runs = DemoScenario.standard(seed, InstantSource.system()).runs();
    System.out.println("trainwatch demo: starting an embedded Kafka broker and a local Flink cluster...");
    Path stateDir = Files.createTempDirectory("trainwatch-demo-alerts-");
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
        LocalStorage storage = LocalStorage.resolve(Map.of(), System.getenv()).orElse(null)) {
      Topics topics = Topics.DEFAULT;
      kafka.createTopics(Map.of(topics.telemetry(), 4, topics.alerts(), 2, topics.deadLetter(), 1, topics.metrics(), 2));
      JobConfig config = JobConfig.of(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(),
          "checkpoint.interval.ms", "1000", "source.starting-offsets", "earliest", "job.name", "trainwatch-demo"));
      StreamExecutionEnvironment env = Replay.localEnvironment(2);
      TrainwatchJob.configure(env, config);
      TrainwatchJob.fromConfig(config, false).build(env, (records, alerts, metrics) -> {
        if (storage != null) {
          StorageTopology.attach(records, alerts, metrics, storage.config());
        }
      });
      JobClient job = env.executeAsync("trainwatch-demo");
      System.out.println(storage == null
          ? "storage: none (set TRAINWATCH_INFLUX_URL or install influxdb to store metrics)"
          : "storage: InfluxDB at " + storage.config().url() + (storage.isLocal() ? " (local, temporary)" : ""));
      AlertsService notifier = AlertsService.start(
          ConfigLoader.demo(kafka.bootstrapServers(), stateDir, notifications), kafka.bootstrapServers());
      System.out.println("alerts service: notifications printed below (NOTIFY) and appended to " + notifications
          + "; active alerts on http://127.0.0.1:" + notifier.httpPort() + "/api/v2/alerts (amtool --alertmanager.url)");

      Map<String, Integer> firing = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      Thread printer = new Thread(() -> printAlerts(kafka.bootstrapServers(), topics.alerts(), stop, firing), "alert-printer");
      printer.start();

      System.out.printf("training %d runs in-process, publishing telemetry at %.0f records/s:%n", runs.size(), rate);
      for (DemoRun r : runs) {
        System.out.printf("  %-24s %-17s %5d steps%n", r.run(), r.kind(), r.steps());
      }
      long sent = DemoPublisher.publish(runs, kafka.bootstrapServers(), topics.telemetry(), rate);
      Thread.sleep(Duration.ofSeconds(4).toMillis()); // the last checkpoint commits the last alerts
      stop.set(true);
      printer.join();
      notifier.close();
      job.cancel().get();

      System.out.printf("%ndone: %d records published. Firing alerts per run:%n", sent);
      for (DemoRun r : runs) {
        System.out.printf("  %-24s %-17s %d%n", r.run(), r.kind(), firing.getOrDefault(r.run(), 0));
      }
    }
    return 0;
  }

  private static void printAlerts(String bootstrap, String topic, AtomicBoolean stop, Map<String, Integer> firing) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "trainwatch-demo-printer");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      while (!stop.get()) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          AlertEvent a = AlertJson.parse(r.value());
          if (a.status() == Status.FIRING) {
            firing.merge(a.run(), 1, Integer::sum);
          }
          System.out.printf("ALERT %-8s %-8s %-24s step %5d  %s/%s%s: %s%n", a.status().wire(), a.severity().wire(),
              a.run(), a.step(), a.family().wire(), a.detector(),
              a.affectedTask() == null ? "" : " [" + a.affectedTask() + "]", a.summary());
        }
      }
    }
  }
}
