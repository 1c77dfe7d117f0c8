package dev.trainwatch.jobs.storage;

/**
 * One InfluxDB point in line protocol with a nanosecond timestamp, as it flows from the point
 * mappers to {@link InfluxSink}. A plain string keeps the Flink serializer trivial (a POJO with one
 * field) and lets the mapping run before the network shuffle, in parallel.
 */
public record InfluxLine(String line) {

  public InfluxLine {
    if (line == null || line.isEmpty()) {
      throw new IllegalArgumentException("line must be a non-empty line-protocol string");
    }
  }
}
