package dev.trainwatch.jobs.storage;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.Tags;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.influxdb.dto.Point;

/**
 * Maps trainwatch records to InfluxDB points; the schema is documented in {@code grafana/SCHEMA.md}
 * and its names are the constants here.
 *
 * <p>Tags are only ever values with a small, bounded set per run (run, task, alert labels), never
 * metric values, so series cardinality grows with runs, not with steps. Timestamps follow {@link
 * PointTime}, so mapping is deterministic and replays are idempotent.
 */
public final class Points {

  public static final String TELEMETRY = "telemetry";
  public static final String RUN_INFO = "run_info";
  public static final String ALERTS = "alerts";
  public static final String DETECTOR = "detector";

  public static final String TAG_RUN = "run";
  public static final String TAG_TASK = "task";

  /** Field of telemetry points: how many metrics of the step were NaN or infinite (skipped). */
  public static final String FIELD_NONFINITE = "nonfinite";

  /** Suffix of the boolean field written for each skipped non-finite metric. */
  public static final String NONFINITE_SUFFIX = "/nonfinite";

  /** Prefix of the alert fields that carry the numeric evidence ({@code evidence/baseline}). */
  public static final String EVIDENCE_PREFIX = "evidence/";

  private Points() {}

  /** The telemetry point of a record, plus a run_info point when the record carries run tags. */
  public static List<InfluxLine> telemetry(TelemetryRecord r) {
    long ts = PointTime.nanos(r.timeMs(), r.step());
    Point.Builder p =
        Point.measurement(TELEMETRY)
            .time(ts, TimeUnit.NANOSECONDS)
            .tag(TAG_RUN, r.run())
            .addField("step", r.step());
    if (r.task() != null && !r.task().isEmpty()) {
      p.tag(TAG_TASK, r.task());
    }
    if (r.event() != null && !r.event().isEmpty()) {
      p.addField("event", r.event());
    }
    Metrics m = r.metrics();
    int nonFinite = 0;
    for (int i = 0; i < m.size(); i++) {
      double v = m.value(i);
      if (Double.isFinite(v)) {
        p.addField(m.name(i), v);
      } else {
        nonFinite++;
        p.addField(m.name(i) + NONFINITE_SUFFIX, true);
      }
    }
    if (nonFinite > 0) {
      p.addField(FIELD_NONFINITE, (long) nonFinite);
    }
    List<InfluxLine> out = new ArrayList<>(2);
    out.add(new InfluxLine(p.build().lineProtocol()));
    if (r.tags().size() > 0) {
      out.add(runInfo(r, ts));
    }
    return out;
  }

  private static InfluxLine runInfo(TelemetryRecord r, long ts) {
    Point.Builder p =
        Point.measurement(RUN_INFO)
            .time(ts, TimeUnit.NANOSECONDS)
            .tag(TAG_RUN, r.run())
            .addField("step", r.step());
    Tags t = r.tags();
    for (int i = 0; i < t.size(); i++) {
      if (!t.names()[i].equals("step") && t.values()[i] != null) {
        p.addField(t.names()[i], t.values()[i]);
      }
    }
    return new InfluxLine(p.build().lineProtocol());
  }

  /**
   * The point of an alert state change. {@code firing} is 1 while firing and 0 on resolve, so
   * {@code last("firing")} grouped by fingerprint tells whether an alert is active.
   */
  public static InfluxLine alert(AlertEvent a) {
    Point.Builder p =
        Point.measurement(ALERTS)
            .time(PointTime.nanos(a.timeMs(), a.step()), TimeUnit.NANOSECONDS)
            .tag(TAG_RUN, a.run())
            .tag("family", a.family().wire())
            .tag("detector", a.detector())
            .tag("severity", a.severity().wire())
            .tag("status", a.status().wire())
            .tag("fingerprint", a.fingerprint())
            .addField("step", a.step())
            .addField("firing", a.status() == Status.FIRING ? 1L : 0L)
            .addField("summary", a.summary() == null ? "" : a.summary());
    if (a.affectedTask() != null && !a.affectedTask().isEmpty()) {
      p.tag("affected_task", a.affectedTask());
    }
    // Evidence keys are fixed by each detector's code, so they are a bounded set of fields.
    a.evidence()
        .forEach(
            (k, v) -> {
              if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
                p.addField(EVIDENCE_PREFIX + k, n.doubleValue());
              }
            });
    return new InfluxLine(p.build().lineProtocol());
  }

  /** The point of one detector metric; metrics of one detector and step merge into one point. */
  public static InfluxLine detector(DetectorMetric d) {
    Point.Builder p =
        Point.measurement(DETECTOR)
            .time(PointTime.nanos(d.timeMs(), d.step()), TimeUnit.NANOSECONDS)
            .tag(TAG_RUN, d.run())
            .tag("detector", d.detector())
            .addField("step", d.step());
    if (Double.isFinite(d.value())) {
      p.addField(d.name(), d.value());
    } else {
      p.addField(d.name() + NONFINITE_SUFFIX, true);
    }
    return new InfluxLine(p.build().lineProtocol());
  }
}
