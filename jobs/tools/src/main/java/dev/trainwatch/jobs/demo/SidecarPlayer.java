package dev.trainwatch.jobs.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;

/**
 * Plays recorded runs into a sidecar's HTTP intake ({@code POST /v1/records}) as the training jobs
 * would have sent them, side by side: the runs advance together, round-robin, at a total rate, and
 * each run posts what it logged since its last post every {@link #FLUSH_INTERVAL}, one request per
 * run, as JSON Lines, like the Python client's background thread does.
 *
 * <p>Each record is sent as recorded except {@code time_ms}, which becomes the time it is played
 * (alerts then carry the time the demo shows them, not the time of the recording). Answers are
 * handled as the client handles them: 202 counts the batch, 400 counts the rejected lines (the rest
 * were accepted), 503 resends the lines after the {@code accepted} ones a second later (the
 * sidecar's {@code Retry-After}); anything else is an error.
 *
 * <pre>{@code
 * SidecarPlayer.Result r = new SidecarPlayer(ingest.httpUrl(), InstantSource.system())
 *     .play(DemoRecording.standard(), 120);
 * }</pre>
 */
public final class SidecarPlayer {

  /** How often each run posts: the Python client's default {@code flush_interval} (0.5 s). */
  public static final Duration FLUSH_INTERVAL = Duration.ofMillis(500);

  /** 503 answers in a row for one batch before the player gives up (30 s at one a second). */
  static final int MAX_RETRIES = 30;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** What was played: records posted and how the sidecar answered them. */
  public record Result(long posted, long accepted, long rejected, long requests, long retries) {}

  private final URI endpoint;
  private final InstantSource clock;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private long accepted;
  private long rejected;
  private long requests;
  private long retries;

  /**
   * @param sidecarUrl the sidecar's base URL, e.g. {@code http://127.0.0.1:8787}
   */
  public SidecarPlayer(String sidecarUrl, InstantSource clock) {
    this.endpoint = URI.create(sidecarUrl.replaceAll("/+$", "") + "/v1/records");
    this.clock = clock;
  }

  /**
   * Plays every record of every run, {@code recordsPerSecond} over all runs; returns when all are
   * posted.
   */
  public Result play(List<DemoRecording> runs, double recordsPerSecond)
      throws IOException, InterruptedException {
    if (!(recordsPerSecond > 0)) {
      throw new IllegalArgumentException("records per second must be > 0, got " + recordsPerSecond);
    }
    long total = runs.stream().mapToLong(DemoRecording::steps).sum();
    int[] next = new int[runs.size()];
    int turn = 0;
    long taken = 0;
    long start = System.nanoTime();
    for (long tick = 1; taken < total; tick++) {
      long wakeAt = start + tick * FLUSH_INTERVAL.toNanos();
      long wait = wakeAt - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      }
      long due = Math.min(total, (long) ((System.nanoTime() - start) / 1e9 * recordsPerSecond));
      List<List<String>> batches = new ArrayList<>();
      runs.forEach(r -> batches.add(new ArrayList<>()));
      while (taken < due) {
        while (next[turn] >= runs.get(turn).steps()) {
          turn = (turn + 1) % runs.size();
        }
        batches.get(turn).add(runs.get(turn).lines().get(next[turn]++));
        taken++;
        turn = (turn + 1) % runs.size();
      }
      for (List<String> batch : batches) {
        if (!batch.isEmpty()) {
          post(batch);
        }
      }
    }
    return new Result(taken, accepted, rejected, requests, retries);
  }

  private void post(List<String> recorded) throws IOException, InterruptedException {
    long now = clock.millis();
    List<String> lines = new ArrayList<>(recorded.size());
    for (String line : recorded) {
      lines.add(playedAt(line, now));
    }
    for (int attempt = 0; ; attempt++) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(endpoint)
                  .timeout(Duration.ofSeconds(10))
                  .header("Content-Type", "application/x-ndjson")
                  .POST(HttpRequest.BodyPublishers.ofString(String.join("\n", lines) + "\n"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      requests++;
      JsonNode body =
          r.statusCode() == 202 || r.statusCode() == 400 || r.statusCode() == 503
              ? JSON.readTree(r.body())
              : null;
      switch (r.statusCode()) {
        case 202, 400 -> {
          accepted += body.path("accepted").asLong();
          rejected += body.path("rejected").size();
          return;
        }
        case 503 -> {
          int in = body.path("accepted").asInt();
          accepted += in;
          lines = lines.subList(in, lines.size());
          if (lines.isEmpty()) {
            return;
          }
          if (attempt >= MAX_RETRIES) {
            throw new IOException(
                "the sidecar at "
                    + endpoint
                    + " answered 503 "
                    + (attempt + 1)
                    + " times in a row: "
                    + r.body());
          }
          retries++;
          Thread.sleep(1000); // the sidecar's Retry-After
        }
        default ->
            throw new IOException(
                "the sidecar at " + endpoint + " answered " + r.statusCode() + ": " + r.body());
      }
    }
  }

  /** The recorded line with {@code time_ms} set to {@code now}; every other field as recorded. */
  static String playedAt(String line, long now) throws IOException {
    JsonNode record = JSON.readTree(line);
    if (!(record instanceof ObjectNode o)) {
      return line; // not a record: the sidecar rejects it with the reason, as it would the client's
    }
    o.put("time_ms", now);
    return JSON.writeValueAsString(o);
  }
}
