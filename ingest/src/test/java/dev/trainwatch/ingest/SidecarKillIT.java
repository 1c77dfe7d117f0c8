package dev.trainwatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryBinary;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code http.ack.durable.ms}: every record the sidecar answered 202 for survives a SIGKILL of the
 * sidecar JVM mid-stream (4 clients posting batches of 20 steps). The kill comes at an arbitrary
 * point of a steady load, so records are queued and in flight when it lands.
 */
@Timeout(180)
class SidecarKillIT {

  private static final int BATCH = 20;
  private static final int CLIENTS = 4;

  @TempDir Path spool;

  @Test
  void everyRecordAcknowledgedDurablySurvivesSigkill() throws Exception {
    String durableMs =
        System.getProperty("sidecarkill.durable.ms", "4000"); // 0 shows the gap it closes
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      KafkaFixture.createTopics(kafka);
      Process first = start(kafka, durableMs);
      String url = PythonClientIT.awaitUrl(first) + "/v1/records";
      Set<Long> acked = ConcurrentHashMap.newKeySet();
      AtomicLong nextStep = new AtomicLong();
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        Thread t = new Thread(() -> post(url, nextStep, acked), "client-" + c);
        t.setDaemon(true);
        t.start();
        clients.add(t);
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (acked.size() < 2_000 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      first.destroyForcibly(); // SIGKILL: no shutdown hook, no flush
      assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
      for (Thread t : clients) {
        t.join(20_000); // they stop at the first failed request
      }
      Set<Long> ackedAtKill = new TreeSet<>(acked);
      assertThat(ackedAtKill).hasSizeGreaterThanOrEqualTo(2_000);

      Process second = start(kafka, durableMs); // drains whatever went to the spool
      try {
        PythonClientIT.awaitUrl(second);
        Set<Long> inKafka = new TreeSet<>();
        KafkaFixture.readUntil(
            kafka.bootstrapServers(),
            KafkaFixture.TELEMETRY,
            records -> {
              for (ConsumerRecord<String, byte[]> r : records) {
                if (TelemetryBinary.parseEither(r.value()) instanceof ParseResult.Parsed p) {
                  inKafka.add(p.record().step());
                }
              }
              return inKafka.containsAll(ackedAtKill);
            },
            Duration.ofSeconds(60));
        Set<Long> lost = new TreeSet<>(ackedAtKill);
        lost.removeAll(inKafka);
        System.out.printf(
            "SIGKILL after %d records acknowledged (%d sent in all); %d of them lost%n",
            ackedAtKill.size(), nextStep.get(), lost.size());
        assertThat(lost).as("acknowledged with 202, then lost").isEmpty();
      } finally {
        second.destroy();
        if (!second.waitFor(20, TimeUnit.SECONDS)) {
          second.destroyForcibly();
        }
      }
    }
  }

  private Process start(EmbeddedKafka kafka, String durableMs) throws Exception {
    return PythonClientIT.startJar(
        kafka.bootstrapServers(), spool, List.of("-D", "http.ack.durable.ms=" + durableMs));
  }

  /** Posts batches of consecutive steps until a request fails; records the steps answered 202. */
  private static void post(String url, AtomicLong nextStep, Set<Long> acked) {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    while (true) {
      long first = nextStep.getAndAdd(BATCH);
      StringBuilder body = new StringBuilder();
      for (long s = first; s < first + BATCH; s++) {
        body.append("{\"run\":\"kill-run\",\"step\":")
            .append(s)
            .append(",\"metrics\":{\"loss\":0.5,\"grad_norm\":1.25}}\n");
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(15))
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 202) {
          return;
        }
        for (long s = first; s < first + BATCH; s++) {
          acked.add(s);
        }
      } catch (Exception e) {
        return; // the sidecar is gone
      }
    }
  }
}
