package dev.trainwatch.ingest.bench;

import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.ingest.Ingest;
import dev.trainwatch.ingest.config.IngestConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmark, not a test: records/s from HTTP POST (JSON Lines, 1000 records a request) to
 * acknowledgement by an embedded Kafka broker. Run with the test classpath: {@code java -cp ...
 * dev.trainwatch.ingest.bench.SidecarThroughputBench [records] [clients] [http.ack.durable.ms]}.
 */
public final class SidecarThroughputBench {

  public static void main(String[] args) throws Exception {
    long total = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
    int clients = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    String durableMs = args.length > 2 ? args[2] : "0"; // http.ack.durable.ms
    int perRequest = 1000;
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      kafka.createTopics(Map.of("trainwatch.telemetry", 4, "trainwatch.dead-letter", 1));
      try (Ingest ingest =
          Ingest.start(
              IngestConfig.of(
                  Map.of(
                      "http.port",
                      "0",
                      "http.ack.durable.ms",
                      durableMs,
                      "spool.dir",
                      Files.createTempDirectory("bench-spool").toString(),
                      "kafka.bootstrap.servers",
                      kafka.bootstrapServers())),
              null)) {
        String url = ingest.httpUrl() + "/v1/records";
        HttpClient client = HttpClient.newHttpClient();
        long warm = run(client, url, 50_000, clients, perRequest, ingest, 0);
        long t0 = System.nanoTime();
        run(client, url, total, clients, perRequest, ingest, warm);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(
            "sidecar HTTP -> Kafka (acked): %d records (~%d B) in %.2f s = %.0f records/s"
                + " (%d clients, %d records/request, http.ack.durable.ms=%s); spooled=%d queue_full=%d%n",
            total,
            line(0, 0).length(),
            s,
            total / s,
            clients,
            perRequest,
            durableMs,
            ingest.metrics().spooled.getLongValue(),
            ingest.metrics().queueFull.getLongValue());
      }
    }
  }

  private static String line(long step, int run) {
    return "{\"run\":\"bench-"
        + run
        + "\",\"step\":"
        + step
        + ",\"time_ms\":1763974800123,"
        + "\"metrics\":{\"loss\":0.0123,\"grad_norm\":0.45,\"lr\":0.001,\"logits/absorbed_frac\":0.0,"
        + "\"logits/max_abs\":12.5,\"param_norm\":88.1}}";
  }

  private static long run(
      HttpClient client,
      String url,
      long total,
      int clients,
      int perRequest,
      Ingest ingest,
      long alreadySent)
      throws Exception {
    AtomicLong next = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int run = c;
      Thread t =
          new Thread(
              () -> {
                try {
                  long start;
                  while ((start = next.getAndAdd(perRequest)) < total) {
                    StringBuilder b = new StringBuilder(perRequest * 200);
                    for (long i = start; i < Math.min(total, start + perRequest); i++) {
                      b.append(line(i, run)).append('\n');
                    }
                    String body = b.toString();
                    while (true) {
                      HttpResponse<String> r =
                          client.send(
                              HttpRequest.newBuilder(URI.create(url))
                                  .POST(HttpRequest.BodyPublishers.ofString(body))
                                  .build(),
                              HttpResponse.BodyHandlers.ofString());
                      if (r.statusCode() != 503) {
                        break;
                      }
                      // queue full: resend only the lines after the accepted ones, as the Python
                      // client does
                      int accepted =
                          Integer.parseInt(r.body().replaceAll(".*\"accepted\":(\\d+).*", "$1"));
                      int cut = 0;
                      for (int k = 0; k < accepted; k++) {
                        cut = body.indexOf('\n', cut) + 1;
                      }
                      body = body.substring(cut);
                      Thread.sleep(5);
                    }
                  }
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    while (ingest.metrics().sent.getLongValue() < alreadySent + total) {
      Thread.sleep(1);
    }
    return alreadySent + total;
  }
}
