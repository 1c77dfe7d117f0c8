package dev.trainwatch.jobs.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.embedded.EmbeddedKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code trainwatch replay --bootstrap-servers} from the shipped jar, into a broker standing in for
 * a running deployment: every line arrives keyed by its run in order, at the requested pace
 * (Kafka's CreateTime of the first and last record), and bad flag combinations exit 2.
 */
@Timeout(120)
class ReplayPublishIT {

  @TempDir Path dir;

  private Path trace(String run, int records, long gapMs) throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < records; i++) {
      lines.add(
          "{\"run\":\""
              + run
              + "\",\"step\":"
              + i
              + ",\"metrics\":{\"loss\":1.0},\"time_ms\":"
              + (1_700_000_000_000L + i * gapMs)
              + "}");
    }
    Path f = dir.resolve(run + ".jsonl");
    Files.write(f, lines);
    return f;
  }

  private record Run(int exit, String stderr) {}

  private static Run cli(Path dir, String... args) throws Exception {
    Path jar = Path.of("target", "trainwatch-jobs.jar");
    assertThat(jar).as("the shaded CLI jar (mvn package)").exists();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-jar",
                jar.toString()));
    cmd.addAll(List.of(args));
    Path err = dir.resolve("cli-" + System.nanoTime() + ".err");
    Process p =
        new ProcessBuilder(cmd)
            .redirectError(err.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), Files.readString(err));
  }

  private static List<ConsumerRecord<String, String>> read(
      String bootstrap, String topic, int expected) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + topic);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<ConsumerRecord<String, String>> out = new ArrayList<>();
    try (var c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  private static void assertInOrderPerRun(List<ConsumerRecord<String, String>> recs) {
    Map<String, Integer> next = new HashMap<>();
    for (ConsumerRecord<String, String> r : recs) {
      int step = Integer.parseInt(r.value().replaceAll(".*\"step\":(\\d+).*", "$1"));
      assertThat(r.value()).contains("\"run\":\"" + r.key() + "\"");
      assertThat(step).as("run " + r.key()).isEqualTo(next.getOrDefault(r.key(), 0));
      next.put(r.key(), step + 1);
    }
  }

  private static long spreadMs(List<ConsumerRecord<String, String>> recs) {
    long min = recs.stream().mapToLong(ConsumerRecord::timestamp).min().orElseThrow();
    long max = recs.stream().mapToLong(ConsumerRecord::timestamp).max().orElseThrow();
    return max - min;
  }

  @Test
  void publishesToAnExternalKafkaAtTheRequestedPace() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      kafka.createTopics(Map.of("t-rate", 2, "t-time", 2));
      Path a = trace("run-a", 30, 100);
      Path b = trace("run-b", 30, 100);

      // 60 records at 20/s: about 3 s from the first to the last
      Run rate =
          cli(
              dir,
              "replay",
              "--traces",
              a + "," + b,
              "--bootstrap-servers",
              kafka.bootstrapServers(),
              "--topic",
              "t-rate",
              "--pace",
              "20");
      assertThat(rate.exit()).as(rate.stderr()).isZero();
      List<ConsumerRecord<String, String>> byRate = read(kafka.bootstrapServers(), "t-rate", 60);
      assertThat(byRate).hasSize(60);
      assertInOrderPerRun(byRate);
      assertThat(spreadMs(byRate)).isBetween(2_700L, 6_000L);

      // 29 gaps of 100 ms at speed 1: 2.9 s, both runs together (not 5.8 s one after the other)
      Run time =
          cli(
              dir,
              "replay",
              "--traces",
              a + "," + b,
              "--bootstrap-servers",
              kafka.bootstrapServers(),
              "--topic",
              "t-time",
              "--pace",
              "time");
      assertThat(time.exit()).as(time.stderr()).isZero();
      List<ConsumerRecord<String, String>> byTime = read(kafka.bootstrapServers(), "t-time", 60);
      assertThat(byTime).hasSize(60);
      assertInOrderPerRun(byTime);
      assertThat(spreadMs(byTime)).isBetween(2_600L, 5_000L);
    }
  }

  @Test
  void pacingWithoutAnExternalKafkaOrAlertsOutWithOneIsABadInvocation() throws Exception {
    Path a = trace("run-a", 3, 100);
    Run noKafka =
        cli(
            dir,
            "replay",
            "--traces",
            a.toString(),
            "--alerts-out",
            dir.resolve("x.jsonl").toString(),
            "--pace",
            "10");
    assertThat(noKafka.exit()).isEqualTo(2);
    assertThat(noKafka.stderr()).contains("--pace needs --bootstrap-servers");
    Run both =
        cli(
            dir,
            "replay",
            "--traces",
            a.toString(),
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--alerts-out",
            dir.resolve("x.jsonl").toString());
    assertThat(both.exit()).isEqualTo(2);
    assertThat(both.stderr()).contains("--alerts-out");
    Run badPace =
        cli(
            dir,
            "replay",
            "--traces",
            a.toString(),
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--pace",
            "fast");
    assertThat(badPace.exit()).isEqualTo(2);
    assertThat(badPace.stderr()).contains("--pace must be");
  }
}
