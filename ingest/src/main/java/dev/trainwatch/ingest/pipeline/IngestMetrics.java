package dev.trainwatch.ingest.pipeline;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/** The sidecar's counters and gauges, rendered in the Prometheus text format. */
public final class IngestMetrics {

  public final LongAdder received = new LongAdder();
  public final LongAdder accepted = new LongAdder();
  public final LongAdder rejected = new LongAdder();
  public final LongAdder queueFull = new LongAdder();
  public final LongAdder sent = new LongAdder();
  public final LongAdder sendFailed = new LongAdder();
  public final LongAdder spooled = new LongAdder();
  public final LongAdder drained = new LongAdder();
  public final LongAdder dropped = new LongAdder();
  private final Map<String, LongSupplier> gauges = new LinkedHashMap<>();

  public synchronized void gauge(String name, LongSupplier value) {
    gauges.put(name, value);
  }

  public synchronized String prometheus() {
    StringBuilder b = new StringBuilder(1024);
    counter(b, "received", "lines received on any input", received);
    counter(b, "accepted", "valid records queued for Kafka", accepted);
    counter(b, "rejected", "invalid lines (sent to the dead-letter topic)", rejected);
    counter(b, "queue_full", "records refused because the memory queue was full", queueFull);
    counter(b, "sent", "records acknowledged by Kafka", sent);
    counter(b, "send_failed", "sends that failed and went to the spool", sendFailed);
    counter(b, "spooled", "records written to the disk spool", spooled);
    counter(b, "drained", "spooled records delivered to Kafka", drained);
    counter(b, "dropped", "records lost: spool full or permanent Kafka error", dropped);
    gauges.forEach(
        (name, v) -> {
          String n = "trainwatch_ingest_" + name;
          b.append("# TYPE ")
              .append(n)
              .append(" gauge\n")
              .append(n)
              .append(' ')
              .append(v.getAsLong())
              .append('\n');
        });
    return b.toString();
  }

  private static void counter(StringBuilder b, String name, String help, LongAdder v) {
    String n = "trainwatch_ingest_" + name + "_total";
    b.append("# HELP ")
        .append(n)
        .append(' ')
        .append(help)
        .append('\n')
        .append("# TYPE ")
        .append(n)
        .append(" counter\n")
        .append(n)
        .append(' ')
        .append(v.sum())
        .append('\n');
  }
}
