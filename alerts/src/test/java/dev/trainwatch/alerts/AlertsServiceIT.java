package dev.trainwatch.alerts;

import static dev.trainwatch.alerts.TestReceiver.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.alerts.config.AlertsConfig;
import dev.trainwatch.alerts.config.ConfigLoader;
import dev.trainwatch.alerts.metrics.AlertsMetrics.Counter;
import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.DeadLetter;
import dev.trainwatch.wire.Family;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The service end to end: embedded KRaft broker, real HTTP receiver, real journal on disk. */
@Timeout(90)
class AlertsServiceIT {

  private static EmbeddedKafka kafka;
  private static final AtomicInteger SEQ = new AtomicInteger();
  @TempDir Path dir;

  @BeforeAll
  static void startKafka() throws Exception {
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void stopKafka() throws Exception {
    kafka.close();
  }

  /** Fresh topics and group per test, so tests never see each other's records. */
  private record Setup(String topic, String deadLetters, String group, AlertsConfig config) {}

  private Setup setup(String receiverYaml) throws Exception {
    int n = SEQ.incrementAndGet();
    String topic = "alerts-" + n;
    String dl = "alerts-dl-" + n;
    kafka.createTopics(Map.of(topic, 2, dl, 1));
    String yaml =
        """
        kafka: {topic: %s, dead_letter_topic: %s, group_id: g-%d}
        http: {port: 0}
        state: {dir: '%s'}
        route: {receiver: r, group_wait: 100ms, group_interval: 1s, repeat_interval: 1h}
        retry: {initial_backoff: 20ms, max_backoff: 100ms, max_attempts: 1000, max_elapsed: 1m}
        receivers:
          - name: r
        %s
        """
            .formatted(topic, dl, n, dir.resolve("state"), receiverYaml.indent(4).stripTrailing());
    return new Setup(topic, dl, "g-" + n, ConfigLoader.parse(yaml, Map.of()));
  }

  private static void produce(String topic, List<AlertEvent> events) throws Exception {
    produce(kafka.bootstrapServers(), topic, events);
  }

  /** Sends each event keyed by its run, waiting for every acknowledgement. */
  static void produce(String bootstrap, String topic, List<AlertEvent> events) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (var producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      for (AlertEvent e : events) {
        producer.send(new ProducerRecord<>(topic, e.run(), AlertJson.toBytes(e))).get();
      }
    }
  }

  private static long committed(String group) throws Exception {
    return committed(kafka.bootstrapServers(), group);
  }

  /** The offsets the group has committed, summed over its partitions. */
  static long committed(String bootstrap, String group) throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(p)) {
      Map<?, OffsetAndMetadata> m =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      return m.values().stream().filter(o -> o != null).mapToLong(OffsetAndMetadata::offset).sum();
    }
  }

  private static List<DeadLetter> readDeadLetters(String topic, int expected) throws Exception {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + topic);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<DeadLetter> out = new ArrayList<>();
    try (var c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(r -> out.add(DeadLetter.fromJson(r.value())));
      }
    }
    return out;
  }

  @Test
  void receiverFailingThreeTimesGetsOneGroupedDeliveryAndOffsetsCommitAfterIt() throws Exception {
    try (TestReceiver rx = new TestReceiver().failFirst(3, 503)) {
      Setup s = setup("type: webhook\nurl: " + rx.url() + "\nhmac_secret: k");
      produce(
          s.topic(),
          List.of(
              Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 10),
              Fixtures.warning("run-1", Family.INSTABILITY, "loss_spike", 11)));
      try (AlertsService svc = AlertsService.start(s.config(), kafka.bootstrapServers())) {
        await(Duration.ofSeconds(30), () -> rx.delivered().size() == 1, "one delivery");
        await(Duration.ofSeconds(10), () -> committed(s.group()) == 2, "offsets committed");

        JsonNode body = new ObjectMapper().readTree(rx.delivered().get(0).body());
        assertThat(body.get("version").asText()).isEqualTo("4");
        assertThat(body.get("alerts")).hasSize(2);
        assertThat(svc.metrics().get(Counter.RETRIED, "r")).isEqualTo(3);
        assertThat(svc.metrics().get(Counter.DELIVERED, "r")).isEqualTo(1);
        Thread.sleep(1500); // more than one group_interval: nothing new, nothing re-sent
        assertThat(rx.delivered()).hasSize(1);
      }
    }
  }

  private static long committedSafe(String group) {
    try {
      return committed(group);
    } catch (Exception e) {
      return -1;
    }
  }

  private static void await(Duration max, ThrowingBool cond, String what)
      throws InterruptedException {
    TestReceiver.await(
        max,
        () -> {
          try {
            return cond.get();
          } catch (Exception e) {
            return false;
          }
        },
        what);
  }

  private interface ThrowingBool {
    boolean get() throws Exception;
  }

  @Test
  void clientErrorGoesToTheDeadLetterTopicWithTheReason() throws Exception {
    try (TestReceiver rx = new TestReceiver().answer(400)) {
      Setup s = setup("type: webhook\nurl: " + rx.url());
      produce(s.topic(), List.of(Fixtures.critical("run-9", Family.STABILITY_GAP, "gap", 5)));
      try (AlertsService svc = AlertsService.start(s.config(), kafka.bootstrapServers())) {
        List<DeadLetter> dls = readDeadLetters(s.deadLetters(), 1);

        assertThat(dls).hasSize(1);
        assertThat(dls.get(0).reason()).contains("HTTP 400");
        assertThat(dls.get(0).run()).isEqualTo("run-9");
        assertThat(new ObjectMapper().readTree(dls.get(0).payload()).get("version").asText())
            .isEqualTo("4");
        assertThat(rx.requests()).hasSize(1); // permanent: not retried
        await(
            Duration.ofSeconds(10),
            () -> committed(s.group()) == 1,
            "offset committed after dead-letter");
        assertThat(svc.metrics().get(Counter.DEAD_LETTERED, "r")).isEqualTo(1);
      }
    }
  }

  @Test
  void restartMidDeliveryNeitherLosesNorResends() throws Exception {
    try (TestReceiver rx = new TestReceiver().failFirst(1_000_000, 503)) {
      Setup s = setup("type: webhook\nurl: " + rx.url());
      AlertEvent w = Fixtures.warning("run-1", Family.SOFTMAX_COLLAPSE, "softmax_margin", 10);
      produce(s.topic(), List.of(w));
      try (AlertsService first = AlertsService.start(s.config(), kafka.bootstrapServers())) {
        await(Duration.ofSeconds(20), () -> rx.requests().size() >= 3, "retries in progress");
      } // closed while retrying: nothing delivered, nothing committed
      assertThat(rx.delivered()).isEmpty();
      assertThat(committedSafe(s.group())).isLessThanOrEqualTo(0);

      rx.failFirst(0, 503);
      try (AlertsService second = AlertsService.start(s.config(), kafka.bootstrapServers())) {
        await(Duration.ofSeconds(20), () -> rx.delivered().size() == 1, "delivery after restart");
        await(Duration.ofSeconds(10), () -> committed(s.group()) == 1, "offset committed");
      }
      try (AlertsService third = AlertsService.start(s.config(), kafka.bootstrapServers())) {
        Thread.sleep(1500); // past group_wait and a group_interval: the log says it was sent
        assertThat(rx.delivered()).hasSize(1);
        produce(s.topic(), List.of(Fixtures.resolved(w, 40)));
        await(Duration.ofSeconds(20), () -> rx.delivered().size() == 2, "resolved notification");
        JsonNode resolved = new ObjectMapper().readTree(rx.delivered().get(1).body());
        assertThat(resolved.get("status").asText()).isEqualTo("resolved");
      }
    }
  }

  @Test
  void fileReceiverShowsDeliveriesForTheDemo() throws Exception {
    Path out = dir.resolve("notifications.jsonl");
    Setup s = setup("type: file\npath: '" + out + "'");
    produce(s.topic(), List.of(Fixtures.critical("demo", Family.INSTABILITY, "loss_spike", 3)));
    try (AlertsService svc = AlertsService.start(s.config(), kafka.bootstrapServers())) {
      await(
          Duration.ofSeconds(20),
          () -> Files.exists(out) && !Files.readAllLines(out).isEmpty(),
          "file line");
      JsonNode line = new ObjectMapper().readTree(Files.readAllLines(out).get(0));
      assertThat(line.get("groupLabels").get("run").asText()).isEqualTo("demo");
      assertThat(line.get("alerts").get(0).get("labels").get("severity").asText())
          .isEqualTo("critical");
    }
  }

  @Test
  void demoConfigPrintsAndAppendsEachNotificationAndCreatesTheDeadLetterTopic() throws Exception {
    kafka.createTopics(Map.of("trainwatch.alerts", 2));
    Path file = dir.resolve("demo.jsonl");
    var printed = new ByteArrayOutputStream();
    AlertsConfig demo =
        ConfigLoader.demo(kafka.bootstrapServers(), dir.resolve("demo-state"), file);
    produce(
        "trainwatch.alerts",
        List.of(Fixtures.critical("demo-run", Family.INSTABILITY, "loss_spike", 7)));
    try (AlertsService svc =
        AlertsService.builder(demo)
            .stdout(new PrintStream(printed, true, StandardCharsets.UTF_8))
            .start()) {
      await(Duration.ofSeconds(20), () -> Files.exists(file) && printed.size() > 0, "demo output");
      assertThat(printed.toString(StandardCharsets.UTF_8))
          .contains("[FIRING:1] console {family=instability, run=demo-run}")
          .contains("critical loss_spike run=demo-run step=7");
      assertThat(Files.readAllLines(file)).hasSize(1);
      Properties p = new Properties();
      p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      try (Admin admin = Admin.create(p)) {
        assertThat(admin.listTopics().names().get()).contains("trainwatch.alerts.dead-letter");
      }
    }
  }

  @Test
  void throughputToALocalWebhookReceiver() throws Exception {
    try (TestReceiver rx = new TestReceiver()) {
      Setup s = setup("type: webhook\nurl: " + rx.url());
      int runs = 1000;
      List<AlertEvent> events = new ArrayList<>();
      for (int i = 0; i < runs; i++) {
        events.add(Fixtures.warning("run-" + i, Family.INSTABILITY, "grad_norm", 10));
      }
      produce(s.topic(), events);
      long t0 = System.nanoTime();
      try (AlertsService svc = AlertsService.start(s.config(), kafka.bootstrapServers())) {
        await(Duration.ofSeconds(60), () -> !rx.delivered().isEmpty(), "first delivery");
        long t1 = System.nanoTime();
        int first = rx.delivered().size();
        await(Duration.ofSeconds(60), () -> rx.delivered().size() == runs, runs + " deliveries");
        long t2 = System.nanoTime();
        System.out.printf(
            "throughput: %d notifications (1 alert each): %.2f s from start, "
                + "%.0f deliveries/s after the first one (each fsyncs the notification log)%n",
            runs, (t2 - t0) / 1e9, (runs - first) / ((t2 - t1) / 1e9));
      }
    }
  }
}
