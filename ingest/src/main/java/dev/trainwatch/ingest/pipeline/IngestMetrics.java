package dev.trainwatch.ingest.pipeline;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;

/**
 * The sidecar's counters and gauges, kept in a Prometheus client registry ({@code
 * prometheus-metrics-core}, as the alerts service does) and exposed in the text format 0.0.4 as
 * {@code trainwatch_ingest_*}. Counters are bumped on the record path, so they are created without
 * exemplars (no span lookup per increment); gauges are read when scraped.
 *
 * <pre>{@code
 * metrics.accepted.inc();
 * metrics.gauge("queue_depth", "records waiting in memory", queue::size);
 * String page = metrics.prometheus();
 * }</pre>
 */
public final class IngestMetrics {

  /** {@code text/plain; version=0.0.4; charset=utf-8} */
  public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

  private static final String PREFIX = "trainwatch_ingest_";
  private final PrometheusRegistry registry = new PrometheusRegistry();

  public final Counter received = counter("received", "lines received on any input");
  public final Counter accepted = counter("accepted", "valid records queued for Kafka");
  public final Counter rejected =
      counter("rejected", "invalid lines (sent to the dead-letter topic)");
  public final Counter queueFull =
      counter("queue_full", "records refused because the memory queue was full");
  public final Counter sent = counter("sent", "records acknowledged by Kafka");
  public final Counter sendFailed =
      counter("send_failed", "sends that failed and went to the spool");
  public final Counter spooled = counter("spooled", "records written to the disk spool");
  public final Counter drained = counter("drained", "spooled records delivered to Kafka");
  public final Counter dropped =
      counter("dropped", "records lost: spool full or permanent Kafka error");

  private Counter counter(String name, String help) {
    // the client appends _total: trainwatch_ingest_received_total
    return Counter.builder().name(PREFIX + name).help(help).withoutExemplars().register(registry);
  }

  /** A gauge {@code trainwatch_ingest_<name>} read from {@code value} at every scrape. */
  public void gauge(String name, String help, LongSupplier value) {
    GaugeWithCallback.builder()
        .name(PREFIX + name)
        .help(help)
        .callback(cb -> cb.call(value.getAsLong()))
        .register(registry);
  }

  /** The text exposition (version 0.0.4) of every metric. */
  public String prometheus() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(2048);
    try {
      PrometheusTextFormatWriter.create().write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
