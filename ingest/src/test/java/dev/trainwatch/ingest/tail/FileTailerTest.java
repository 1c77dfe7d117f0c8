package dev.trainwatch.ingest.tail;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.ingest.pipeline.IngestMetrics;
import dev.trainwatch.ingest.pipeline.Intake;
import dev.trainwatch.ingest.pipeline.Outgoing;
import dev.trainwatch.wire.TelemetryParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class FileTailerTest {

  @TempDir Path dir;
  private Path file;
  private Path checkpoint;
  private final ArrayBlockingQueue<Outgoing> queue = new ArrayBlockingQueue<>(1000);
  private final List<Long> steps = new CopyOnWriteArrayList<>();
  private final IngestMetrics metrics = new IngestMetrics();
  private Thread consumer;
  private FileTailer tailer;
  private Thread tailThread;

  @BeforeEach
  void setUp() {
    file = dir.resolve("telemetry.jsonl");
    checkpoint = dir.resolve("tail.checkpoint");
    consumer =
        new Thread(
            () -> { // stands in for the forwarder: every record is durable at once
              try {
                while (true) {
                  Outgoing o = queue.take();
                  String v = new String(o.value(), StandardCharsets.UTF_8);
                  if (o.topic().equals("tel")) {
                    steps.add(Long.parseLong(v.replaceAll(".*\"step\":(\\d+).*", "$1")));
                  }
                  o.ticket().done();
                }
              } catch (InterruptedException e) {
                // test over
              }
            });
    consumer.start();
  }

  @AfterEach
  void tearDown() throws Exception {
    stopTailer();
    consumer.interrupt();
  }

  private void startTailer() {
    Intake intake =
        new Intake(TelemetryParser.DEFAULT, queue, "tel", "dlq", metrics, InstantSource.system());
    tailer =
        new FileTailer(
            file, checkpoint, new LineSink(intake, "file"), 1000, 10, metrics.rejected::inc);
    tailThread = new Thread(tailer);
    tailThread.start();
  }

  private void stopTailer() throws InterruptedException {
    if (tailer != null) {
      tailer.stop();
      tailThread.join(5000);
      tailer = null;
    }
  }

  private void append(Path p, int from, int to) throws Exception {
    StringBuilder b = new StringBuilder();
    IntStream.range(from, to)
        .forEach(i -> b.append("{\"run\":\"r\",\"step\":").append(i).append("}\n"));
    write(p, b.toString());
  }

  private static void write(Path p, String s) throws Exception {
    Files.writeString(p, s, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private void awaitSteps(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (steps.size() < n && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    Thread.sleep(100); // and nothing more arrives
  }

  private static List<Long> range(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> (long) i).toList();
  }

  @Test
  void emitsOnlyCompleteLines() throws Exception {
    append(file, 0, 3);
    write(file, "{\"run\":\"r\",\"st");
    startTailer();
    awaitSteps(3);
    assertThat(steps).isEqualTo(range(0, 3));
    write(file, "ep\":3}\n");
    awaitSteps(4);
    assertThat(steps).isEqualTo(range(0, 4));
  }

  @Test
  void resumesFromTheCheckpointWithoutLossOrDuplicates() throws Exception {
    append(file, 0, 10);
    startTailer();
    awaitSteps(10);
    stopTailer();
    append(file, 10, 15);
    startTailer();
    awaitSteps(15);
    assertThat(steps).isEqualTo(range(0, 15));
  }

  @Test
  void followsRotationToTheNewFile() throws Exception {
    append(file, 0, 5);
    startTailer();
    awaitSteps(5);
    append(file, 5, 7);
    Files.move(file, dir.resolve("telemetry.jsonl.1"));
    append(file, 7, 10);
    awaitSteps(10);
    assertThat(steps).isEqualTo(range(0, 10));
  }

  @Test
  void finishesAFileRotatedWhileTheSidecarWasDown() throws Exception {
    append(file, 0, 5);
    startTailer();
    awaitSteps(5);
    stopTailer();
    append(file, 5, 8);
    Files.move(file, dir.resolve("telemetry.jsonl.1"));
    append(file, 8, 12);
    startTailer();
    awaitSteps(12);
    assertThat(steps).isEqualTo(range(0, 12));
  }

  @Test
  void restartsFromTheTopAfterTruncation() throws Exception {
    append(file, 0, 20);
    startTailer();
    awaitSteps(20);
    Files.writeString(file, "{\"run\":\"r\",\"step\":100}\n", StandardOpenOption.TRUNCATE_EXISTING);
    awaitSteps(21);
    assertThat(steps).endsWith(100L).hasSize(21);
  }

  @Test
  void skipsAnOversizeLineAndCountsIt() throws Exception {
    append(file, 0, 1);
    write(file, "{\"run\":\"r\",\"step\":1,\"tags\":{\"x\":\"" + "y".repeat(5000) + "\"}}\n");
    append(file, 2, 3);
    startTailer();
    awaitSteps(2);
    assertThat(steps).containsExactly(0L, 2L);
    assertThat(metrics.rejected.getLongValue()).isEqualTo(1);
  }
}
