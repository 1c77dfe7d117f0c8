package dev.trainwatch.jobs.flink;

/**
 * One telemetry message as read from Kafka, not yet validated: the run it names (peeked from the
 * JSON; empty when unreadable), the bytes, and where it came from (for dead letters). Primitives, a
 * string and a byte array, so Flink moves it between tasks with its POJO serializer at the cost of
 * a copy: far cheaper than shipping a parsed record with ~20 metric names.
 */
public record RawTelemetry(String run, byte[] value, int partition, long offset) {

  /** {@code topic-partition@offset}, built only when a dead letter needs it. */
  public String origin(String topic) {
    return topic + "-" + partition + "@" + offset;
  }
}
