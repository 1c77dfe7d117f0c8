package dev.trainwatch.alerts.metrics;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Counters and gauges of the alerts service, kept in a Prometheus client registry ({@code
 * prometheus-metrics-core}) and exposed in the Prometheus text format 0.0.4. Counters of
 * notifications are per receiver; gauges are read when scraped.
 */
public final class AlertsMetrics {

  /** The per-receiver counters, with their help text. */
  public enum Counter {
    DELIVERED("trainwatch_alerts_notifications_delivered_total", "Notifications delivered (2xx)."),
    RETRIED(
        "trainwatch_alerts_notifications_retried_total",
        "Send attempts retried after a retryable failure."),
    FAILED(
        "trainwatch_alerts_notifications_failed_total",
        "Notifications given up on (permanent failure or retries exhausted)."),
    DEAD_LETTERED(
        "trainwatch_alerts_notifications_dead_lettered_total",
        "Notifications written to the dead-letter topic."),
    SUPPRESSED(
        "trainwatch_alerts_notifications_deduplicated_total",
        "Group flushes with nothing new to send."),
    RESENT(
        "trainwatch_alerts_resends_total",
        "Re-sends of firing alerts to an Alertmanager (keeps endsAt ahead)."),
    RESEND_FAILED(
        "trainwatch_alerts_resends_failed_total",
        "Re-sends that failed (the next interval tries again).");

    final String name;
    final String help;

    Counter(String name, String help) {
      this.name = name;
      this.help = help;
    }
  }

  /** Help text of the unlabelled counters the service uses. */
  private static final Map<String, String> PLAIN_HELP =
      Map.of(
          "trainwatch_alerts_received_total", "Alert events read from the alerts topic.",
          "trainwatch_alerts_unreadable_total",
              "Alert events that could not be read (dead-lettered).");

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Map<Counter, io.prometheus.metrics.core.metrics.Counter> counters =
      new ConcurrentHashMap<>();
  private final Map<String, io.prometheus.metrics.core.metrics.Counter> plain =
      new ConcurrentHashMap<>();

  public AlertsMetrics() {
    for (Counter c : Counter.values()) {
      counters.put(
          c,
          io.prometheus.metrics.core.metrics.Counter.builder()
              .name(c.name)
              .help(c.help)
              .labelNames("receiver")
              .register(registry));
    }
  }

  public void inc(Counter c, String receiver) {
    add(c, receiver, 1);
  }

  public void add(Counter c, String receiver, long n) {
    counters.get(c).labelValues(receiver).inc(n);
  }

  public long get(Counter c, String receiver) {
    return (long) counters.get(c).labelValues(receiver).get();
  }

  public long total(Counter c) {
    return (long)
        counters.get(c).collect().getDataPoints().stream().mapToDouble(d -> d.getValue()).sum();
  }

  /** A counter without labels, e.g. alerts received; registered on first use. */
  public void inc(String name) {
    plainCounter(name).inc();
  }

  public long get(String name) {
    return (long) plainCounter(name).get();
  }

  private io.prometheus.metrics.core.metrics.Counter plainCounter(String name) {
    return plain.computeIfAbsent(
        name,
        n ->
            io.prometheus.metrics.core.metrics.Counter.builder()
                .name(n)
                .help(PLAIN_HELP.getOrDefault(n, n))
                .register(registry));
  }

  /** A gauge read from {@code value} at every scrape. */
  public void gauge(String name, String help, LongSupplier value) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .callback(cb -> cb.call(value.getAsLong()))
        .register(registry);
  }

  /** The text exposition (version 0.0.4) of every metric. */
  public String scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
    try {
      PrometheusTextFormatWriter.create().write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
