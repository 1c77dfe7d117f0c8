package dev.trainwatch.ingest.tail;

import dev.trainwatch.ingest.pipeline.Intake;
import dev.trainwatch.ingest.pipeline.Ticket;
import java.util.List;

/**
 * Hands a chunk of complete lines to the {@link Intake} and waits until every one is durable (in
 * Kafka or the spool), so the caller may then move its checkpoint past them.
 */
public final class LineSink {

  private final Intake intake;
  private final String origin;

  public LineSink(Intake intake, String origin) {
    this.intake = intake;
    this.origin = origin;
  }

  /** Blocks while the memory queue is full: a file or pipe can simply wait. */
  public void submit(List<byte[]> lines) throws InterruptedException {
    Ticket ticket = Ticket.forRecords(lines.size());
    for (byte[] line : lines) {
      Intake.Outcome o = intake.offer(line, origin, ticket, -1);
      if (o instanceof Intake.Outcome.QueueFull) {
        ticket.done();
      }
    }
    while (!ticket.await(1000)) {
      // the forwarder always settles a ticket (Kafka ack, spool, or counted drop)
    }
  }
}
