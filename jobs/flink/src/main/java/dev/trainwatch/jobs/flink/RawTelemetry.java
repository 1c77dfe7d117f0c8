package dev.trainwatch.jobs.flink;

import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * One telemetry message as read from Kafka, not yet validated: the run it names (peeked from the
 * JSON; empty when unreadable), the bytes, and where it came from (for dead letters). Moved between
 * tasks by {@link RawTelemetrySerializer} at the cost of a copy: far cheaper than shipping a parsed
 * record with ~20 metric names.
 */
@TypeInfo(RawTelemetrySerializer.Factory.class)
public record RawTelemetry(String run, byte[] value, int partition, long offset) {

  /** {@code topic-partition@offset}, built only when a dead letter needs it. */
  public String origin(String topic) {
    return topic + "-" + partition + "@" + offset;
  }
}
