package dev.trainwatch.alerts.metrics;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Counters and gauges of the alerts service in the Prometheus text format (version 0.0.4).
 * Counters are per receiver; gauges are read when scraped.
 */
public final class AlertsMetrics {

  /** The counters, with their help text. */
  public enum Counter {
    DELIVERED("trainwatch_alerts_notifications_delivered_total", "Notifications delivered (2xx)."),
    RETRIED("trainwatch_alerts_notifications_retried_total", "Send attempts retried after a retryable failure."),
    FAILED("trainwatch_alerts_notifications_failed_total", "Notifications given up on (permanent failure or retries exhausted)."),
    DEAD_LETTERED("trainwatch_alerts_notifications_dead_lettered_total", "Notifications written to the dead-letter topic."),
    SUPPRESSED("trainwatch_alerts_notifications_deduplicated_total", "Group flushes with nothing new to send."),
    RESENT("trainwatch_alerts_resends_total", "Re-sends of firing alerts to an Alertmanager (keeps endsAt ahead)."),
    RESEND_FAILED("trainwatch_alerts_resends_failed_total", "Re-sends that failed (the next interval tries again).");

    final String name;
    final String help;

    Counter(String name, String help) {
      this.name = name;
      this.help = help;
    }
  }

  private final Map<Counter, Map<String, LongAdder>> counters = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> plain = new ConcurrentHashMap<>();
  private final Map<String, String[]> gauges = new ConcurrentHashMap<>();
  private final Map<String, LongSupplier> gaugeValues = new ConcurrentHashMap<>();

  public void inc(Counter c, String receiver) {
    add(c, receiver, 1);
  }

  public void add(Counter c, String receiver, long n) {
    counters.computeIfAbsent(c, k -> new ConcurrentHashMap<>())
        .computeIfAbsent(receiver, k -> new LongAdder()).add(n);
  }

  public long get(Counter c, String receiver) {
    LongAdder a = counters.getOrDefault(c, Map.of()).get(receiver);
    return a == null ? 0 : a.sum();
  }

  public long total(Counter c) {
    return counters.getOrDefault(c, Map.of()).values().stream().mapToLong(LongAdder::sum).sum();
  }

  /** A counter without labels, e.g. alerts received. */
  public void inc(String name) {
    plain.computeIfAbsent(name, k -> new LongAdder()).increment();
  }

  public long get(String name) {
    LongAdder a = plain.get(name);
    return a == null ? 0 : a.sum();
  }

  public void gauge(String name, String help, LongSupplier value) {
    gauges.put(name, new String[] {help});
    gaugeValues.put(name, value);
  }

  public String scrape() {
    StringBuilder sb = new StringBuilder();
    for (Counter c : Counter.values()) {
      sb.append("# HELP ").append(c.name).append(' ').append(c.help).append('\n');
      sb.append("# TYPE ").append(c.name).append(" counter\n");
      new TreeMap<>(counters.getOrDefault(c, Map.of())).forEach((recv, v) -> sb.append(c.name)
          .append("{receiver=\"").append(escape(recv)).append("\"} ").append(v.sum()).append('\n'));
    }
    new TreeMap<>(plain).forEach((name, v) -> sb.append("# TYPE ").append(name).append(" counter\n")
        .append(name).append(' ').append(v.sum()).append('\n'));
    new TreeMap<>(gaugeValues).forEach((name, v) -> sb.append("# HELP ").append(name).append(' ')
        .append(gauges.get(name)[0]).append('\n').append("# TYPE ").append(name).append(" gauge\n")
        .append(name).append(' ').append(v.getAsLong()).append('\n'));
    return sb.toString();
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
