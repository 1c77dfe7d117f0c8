package dev.trainwatch.jobs.replay;

import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TraceFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes recorded traces to the telemetry topic exactly as a sidecar would: each line as-is
 * (malformed lines included, so the job dead-letters them), keyed by the run it names so one run's
 * records stay in order in one partition. Idempotent producer, acks=all.
 */
public final class TraceProducer {

  private TraceProducer() {}

  /** Produces every line of the traces; returns the number of lines sent. */
  public static long produce(String bootstrap, String topic, List<Path> traces) {
    Properties p = producerProperties(bootstrap);
    long[] sent = {0};
    AtomicReference<Exception> failure = new AtomicReference<>();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (Path file : TraceFiles.resolve(traces)) {
        TraceFiles.forEachLine(
            file,
            line -> {
              send(producer, topic, line, failure);
              sent[0]++;
            });
      }
      producer.flush();
    }
    throwIfFailed(failure);
    return sent[0];
  }

  /**
   * Produces the lines at their scheduled times (sleeping until each is due), so a deployment sees
   * the runs progress in real time; {@code progress} is called about every 10 s with the count
   * sent. Returns the number of lines sent.
   */
  public static long produce(
      String bootstrap, String topic, List<ReplaySchedule.Entry> schedule, LongConsumer progress)
      throws InterruptedException {
    AtomicReference<Exception> failure = new AtomicReference<>();
    long sent = 0;
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            producerProperties(bootstrap), new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.partitionsFor(
          topic); // metadata first: a first send blocked on it would bunch the start
      long start = System.nanoTime();
      long nextReport = start + 10_000_000_000L;
      for (ReplaySchedule.Entry e : schedule) {
        long wait = start + e.atNanos() - System.nanoTime();
        if (wait > 1_000_000) { // under a millisecond late is on time: no sleep per record
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        send(producer, topic, e.line(), failure);
        sent++;
        if (System.nanoTime() >= nextReport) {
          progress.accept(sent);
          nextReport += 10_000_000_000L;
        }
      }
      producer.flush();
    }
    throwIfFailed(failure);
    return sent;
  }

  private static void send(
      KafkaProducer<byte[], byte[]> producer,
      String topic,
      String line,
      AtomicReference<Exception> failure) {
    byte[] value = line.getBytes(StandardCharsets.UTF_8);
    producer.send(
        new ProducerRecord<>(topic, runKey(value), value),
        (md, e) -> {
          if (e != null) {
            failure.compareAndSet(null, e);
          }
        });
  }

  private static void throwIfFailed(AtomicReference<Exception> failure) {
    if (failure.get() != null) {
      throw new IllegalStateException(
          "producing traces failed: " + failure.get().getMessage(), failure.get());
    }
  }

  private static Properties producerProperties(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    return p;
  }

  /** The run a line names, as the Kafka key; null (any partition) when the line is unreadable. */
  static byte[] runKey(byte[] value) {
    String run = TelemetryParser.DEFAULT.peekRun(value);
    return run == null ? null : run.getBytes(StandardCharsets.UTF_8);
  }
}
