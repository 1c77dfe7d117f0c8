package dev.trainwatch.ingest.pipeline;

/**
 * One Kafka record on its way out: topic, key (the run, or null for dead letters without one),
 * value bytes, and the ticket to mark when it is durable (acknowledged by Kafka or written to the
 * spool).
 */
public record Outgoing(String topic, String key, byte[] value, Ticket ticket) {

  public Outgoing {
    if (topic == null || topic.isEmpty()) {
      throw new IllegalArgumentException("topic must be non-empty");
    }
    ticket = ticket == null ? Ticket.NONE : ticket;
  }

  public Outgoing withTicket(Ticket t) {
    return new Outgoing(topic, key, value, t);
  }
}
