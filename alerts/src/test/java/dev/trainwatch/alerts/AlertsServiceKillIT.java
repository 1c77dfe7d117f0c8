package dev.trainwatch.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Family;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * "Never lost" under the crash that close() never sees: the service runs as its own JVM from the
 * shaded jar, is SIGKILLed while deliveries are in flight, and is started again on the same
 * journal. Every alert must reach the receiver; the journal and the offsets committed only after
 * delivery keep re-sends to the deliveries that were in flight at the kill.
 *
 * <p>What the restart looks like: the journal already holds every alert the killed process had
 * read, so their notifications go out at once, before the new consumer even owns a partition (it
 * waits for the dead member's session to expire, 10 s by default); the offsets follow once it does.
 */
@Timeout(180)
class AlertsServiceKillIT {

  private static final int ALERTS = 300;

  @TempDir Path dir;

  @Test
  void sigkillMidDeliveryLosesNothing() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
        TestReceiver rx = new TestReceiver().delay(Duration.ofMillis(20))) {
      kafka.createTopics(Map.of("alerts", 2, "alerts-dl", 1));
      Path config = dir.resolve("alerts.yaml");
      Files.writeString(
          config,
          """
          kafka: {bootstrap_servers: '%s', topic: alerts, dead_letter_topic: alerts-dl, group_id: kill-test}
          http: {port: 0}
          state: {dir: '%s'}
          route: {receiver: r, group_wait: 50ms, group_interval: 1s, repeat_interval: 1h}
          retry: {initial_backoff: 20ms, max_backoff: 100ms, max_attempts: 1000, max_elapsed: 1m}
          receivers:
            - name: r
              type: webhook
              url: %s
          """
              .formatted(kafka.bootstrapServers(), dir.resolve("state"), rx.url()));
      List<AlertEvent> alerts = new ArrayList<>();
      for (int i = 0; i < ALERTS; i++) {
        alerts.add(Fixtures.warning("run-" + i, Family.INSTABILITY, "grad_norm_spike", 10));
      }
      AlertsServiceIT.produce(kafka.bootstrapServers(), "alerts", alerts);

      Process first = start(config);
      TestReceiver.await(
          Duration.ofSeconds(60),
          () -> rx.delivered().size() >= ALERTS / 4,
          "deliveries under way");
      first.destroyForcibly(); // SIGKILL: no shutdown hook, no close()
      assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
      int beforeKill = rx.delivered().size();
      assertThat(beforeKill).as("killed mid-stream").isLessThan(ALERTS);

      Process second = start(config);
      try {
        TestReceiver.await(
            Duration.ofSeconds(90),
            () -> delivered(rx).size() == ALERTS,
            "every alert after restart");
        TestReceiver.await(
            Duration.ofSeconds(30),
            () -> committed(kafka.bootstrapServers()) == ALERTS,
            "offsets committed (" + committed(kafka.bootstrapServers()) + ")");
      } finally {
        second.destroy();
        second.waitFor(30, TimeUnit.SECONDS);
      }
      Map<String, Integer> counts = delivered(rx);
      int resent = counts.values().stream().mapToInt(c -> c - 1).sum();
      System.out.printf(
          "kill -9 after %d of %d alerts delivered; all %d delivered after restart, %d twice%n",
          beforeKill, ALERTS, counts.size(), resent);
      assertThat(counts).hasSize(ALERTS);
      // at least once, and no more than what was in flight at the kill (4 delivery threads)
      assertThat(resent).as("alerts delivered twice").isLessThanOrEqualTo(8);
    }
  }

  private Process start(Path config) throws Exception {
    Path jar = Path.of("target", "trainwatch-alerts.jar");
    assertThat(jar).as("the shaded service jar (mvn package)").exists();
    return new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m",
            "-jar",
            jar.toString(),
            "--config",
            config.toString())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("service-" + System.nanoTime() + ".log").toFile())
        .start();
  }

  /** Alert fingerprint -> how many successful deliveries carried it. */
  private static Map<String, Integer> delivered(TestReceiver rx) {
    Map<String, Integer> counts = new HashMap<>();
    ObjectMapper json = new ObjectMapper();
    for (TestReceiver.Request r : rx.delivered()) {
      try {
        for (JsonNode a : json.readTree(r.body()).get("alerts")) {
          counts.merge(a.get("fingerprint").asText(), 1, Integer::sum);
        }
      } catch (Exception e) {
        throw new AssertionError("unreadable webhook body: " + r.body(), e);
      }
    }
    return counts;
  }

  private static long committed(String bootstrap) {
    try {
      return AlertsServiceIT.committed(bootstrap, "kill-test");
    } catch (Exception e) {
      return -1;
    }
  }
}
