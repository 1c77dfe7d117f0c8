package dev.trainwatch.ingest.pipeline;

import dev.trainwatch.wire.DeadLetter;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryBinary;
import dev.trainwatch.wire.TelemetryParser;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The one door every input (HTTP, file tail, stdin) goes through: validates a line per FORMAT.md,
 * queues a valid record keyed by its run (value = the bytes as received, or the validated record in
 * the binary form of the internal topic, {@code topic.binary}), and queues a {@link DeadLetter} for
 * an invalid one. The queue is bounded: a full queue is reported, never grown.
 */
public final class Intake {

  /** What became of one line. */
  public sealed interface Outcome {
    record Accepted() implements Outcome {}

    /** {@code tooLarge}: over {@code record.max.bytes}, which the HTTP input answers with 413. */
    record Rejected(String reason, boolean tooLarge) implements Outcome {
      public Rejected(String reason) {
        this(reason, false);
      }
    }

    record QueueFull() implements Outcome {}
  }

  private static final Outcome ACCEPTED = new Outcome.Accepted();
  private static final Outcome FULL = new Outcome.QueueFull();

  private final TelemetryParser parser;
  private final BlockingQueue<Outgoing> queue;
  private final String topic;
  private final String deadLetterTopic;
  private final IngestMetrics metrics;
  private final InstantSource clock;

  /**
   * Writes valid records in the binary form ({@link TelemetryBinary}) instead of the JSON received;
   * one encoder per thread (the HTTP threads offer concurrently).
   */
  private final ThreadLocal<TelemetryBinary.Encoder> binary;

  public Intake(
      TelemetryParser parser,
      BlockingQueue<Outgoing> queue,
      String topic,
      String deadLetterTopic,
      IngestMetrics metrics,
      InstantSource clock) {
    this(parser, queue, topic, deadLetterTopic, metrics, clock, false);
  }

  /**
   * {@code binary}: valid records go to {@code topic} in the compact binary form of the validated
   * record ({@code topic.binary}); the detection job reads it and JSON alike.
   */
  public Intake(
      TelemetryParser parser,
      BlockingQueue<Outgoing> queue,
      String topic,
      String deadLetterTopic,
      IngestMetrics metrics,
      InstantSource clock,
      boolean binary) {
    this.binary = binary ? ThreadLocal.withInitial(TelemetryBinary.Encoder::new) : null;
    this.parser = parser;
    this.queue = queue;
    this.topic = topic;
    this.deadLetterTopic = deadLetterTopic;
    this.metrics = metrics;
    this.clock = clock;
  }

  /**
   * Validates and queues one line, waiting at most {@code waitMs} for queue space (0: do not wait;
   * -1: wait as long as it takes, which is what the file tail wants).
   */
  public Outcome offer(byte[] line, String origin, Ticket ticket, long waitMs)
      throws InterruptedException {
    metrics.received.inc();
    ParseResult r = parser.parse(line);
    if (r instanceof ParseResult.Parsed p) {
      if (!put(new Outgoing(topic, p.record().run(), value(p, line), ticket), waitMs)) {
        metrics.queueFull.inc();
        return FULL;
      }
      metrics.accepted.inc();
      return ACCEPTED;
    }
    ParseResult.Rejected rej = (ParseResult.Rejected) r;
    metrics.rejected.inc();
    DeadLetter dl =
        new DeadLetter(
            rej.reason(),
            rej.run(),
            origin,
            new String(line, StandardCharsets.UTF_8),
            clock.millis());
    if (!put(new Outgoing(deadLetterTopic, rej.run(), dl.toJson(), ticket), waitMs)) {
      metrics.dropped.inc(); // a dead letter is best effort: the caller got the reason
      ticket.done();
    }
    return new Outcome.Rejected(rej.reason(), line.length > parser.limits().maxBytes());
  }

  /**
   * What goes to the topic: the binary form when on, unless it is larger than the line (sampled
   * logits of short numbers can be), so a record never outgrows the size checked at the door.
   */
  private byte[] value(ParseResult.Parsed p, byte[] line) {
    if (binary == null) {
      return line;
    }
    byte[] b = binary.get().encode(p.record());
    return b.length <= line.length ? b : line;
  }

  private boolean put(Outgoing o, long waitMs) throws InterruptedException {
    if (waitMs < 0) {
      queue.put(o);
      return true;
    }
    return queue.offer(o, waitMs, TimeUnit.MILLISECONDS);
  }
}
