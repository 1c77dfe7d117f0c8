package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All detectors of one run, fed one record at a time in step order. This is the unit the Flink job
 * keeps per run in keyed state; it is plain Java so it is tested, benchmarked and replayed offline
 * without Flink.
 *
 * <p>A detector that throws is isolated: the exception is logged once per detector and the other
 * detectors go on, so one bug never takes the pipeline down. Records whose step is not after the
 * last one seen (duplicates after a producer retry, or reordering) are ignored, which makes the
 * detectors idempotent under at-least-once input.
 *
 * <pre>{@code
 * RunMonitor m = new RunMonitor("run-1", DetectorConfig.DEFAULTS);
 * m.observe(record, alerts::add);
 * if (m.ended()) { ... drop the state ... }
 * }</pre>
 */
public final class RunMonitor {

  private static final Logger LOG = LoggerFactory.getLogger(RunMonitor.class);

  /**
   * 4: the run's LR phase in the context (it was in six detectors' frames); 3: each detector's
   * state framed with its format version ({@link DetectorStates}); 2: the run's tags. Versions 1
   * and 2 are still read (their detector frames are each detector's version 1).
   */
  private static final int FORMAT_VERSION = 4;

  /** Detector metrics are collected on every this-many-th record of a run. */
  public static final int METRICS_EVERY = 10;

  private final RunContext ctx;
  private final List<Detector> detectors;

  /**
   * The detectors that are {@link TimeDriven}, found once: the Flink job asks for the next deadline
   * on every record, and an interface {@code instanceof} over all 14 detectors (a scan of each
   * class's secondary supers) cost about 300 ns a record, a fifth of the detectors' own work.
   */
  private final TimeDriven[] timeDriven;

  private long lastStep = -1;
  private boolean ended;
  private long detectorFailures;

  /** Alerts now firing, by fingerprint: resolved for the user when the run ends or goes idle. */
  private final LinkedHashMap<String, AlertEvent> active = new LinkedHashMap<>();

  private AlertSink target;
  private final AlertSink tracking = this::track;

  public RunMonitor(String run, DetectorConfig config) {
    this(run, config, DetectorRegistry.newDetectors());
  }

  public RunMonitor(String run, DetectorConfig config, List<Detector> detectors) {
    this.ctx = new RunContext(run, config);
    this.detectors = detectors;
    this.timeDriven =
        detectors.stream()
            .filter(TimeDriven.class::isInstance)
            .map(TimeDriven.class::cast)
            .toArray(TimeDriven[]::new);
    for (Detector d : detectors) {
      if (d instanceof LrPhase.Reader reader) {
        reader.readPhaseOf(ctx.phase());
      }
    }
  }

  public String run() {
    return ctx.run();
  }

  public RunContext context() {
    return ctx;
  }

  public List<Detector> detectors() {
    return detectors;
  }

  /** True once a {@code run_end} event was processed: the caller should drop this state. */
  public boolean ended() {
    return ended;
  }

  public long lastStep() {
    return lastStep;
  }

  public long detectorFailures() {
    return detectorFailures;
  }

  /** Applies a (possibly changed) configuration, e.g. after a restore from a checkpoint. */
  public void configure(DetectorConfig config) {
    ctx.setConfig(config);
  }

  /** Alerts currently firing for this run. */
  public Collection<AlertEvent> activeAlerts() {
    return active.values();
  }

  private void track(AlertEvent detected) {
    AlertEvent e = ctx.tags().isEmpty() ? detected : detected.withTags(ctx.tags());
    if (e.status() == Status.FIRING) {
      active.put(e.fingerprint(), e);
    } else {
      active.remove(e.fingerprint());
    }
    target.emit(e);
  }

  /**
   * Resolves every alert still firing (the run ended or went idle and its state is about to be
   * dropped), so downstream never keeps an alert of a run that no longer reports.
   */
  public void resolveAll(long step, long timeMs, String why, AlertSink out) {
    for (AlertEvent a : active.values()) {
      out.emit(a.resolve(Math.max(step, a.step()), timeMs, why, Map.of()));
    }
    active.clear();
  }

  /** Feeds one record; returns false when it was ignored as a duplicate or out of order. */
  public boolean observe(TelemetryRecord r, AlertSink sink) {
    return observe(r, sink, MetricSink.NONE);
  }

  /**
   * Feeds one record and, every {@value #METRICS_EVERY} records of the run (and on its last),
   * collects the detectors' metrics into {@code metrics}: often enough for a dashboard, rarely
   * enough to keep the storage write rate a fraction of the telemetry rate.
   */
  public boolean observe(TelemetryRecord r, AlertSink sink, MetricSink metrics) {
    return observe(r, sink, metrics, -1);
  }

  /**
   * Feeds one record that arrived at processing time {@code nowMs} (-1: none, as off-line), so
   * time-driven detectors ({@link TimeDriven}, e.g. {@code run_stalled}) learn the run's pace.
   */
  public boolean observe(TelemetryRecord r, AlertSink sink, MetricSink metrics, long nowMs) {
    ctx.setNow(nowMs);
    target = sink;
    AlertSink out = tracking;
    boolean isEnd = r.isEvent(TelemetryRecord.RUN_END);
    if (r.step() <= lastStep && !(isEnd && r.step() == lastStep)) {
      if (!r.isEvent(TelemetryRecord.RUN_START)) {
        return false;
      }
      // A resumed run (FORMAT.md, "Events and resumed runs"): run_start at checkpoint + 1, then
      // the steps from there again. That is a rewind, not duplicates: what follows is the run's
      // history from now on, so the detectors see it (their baselines carry over; what the
      // crashed segment did beyond the checkpoint is superseded, not replayed).
    }
    lastStep = r.step();
    ctx.update(r);
    // indexed, not for-each: the iterator was the one allocation left on this per-record path
    for (int i = 0, n = detectors.size(); i < n; i++) {
      Detector d = detectors.get(i);
      try {
        d.observe(r, ctx, out);
      } catch (RuntimeException e) {
        fail(d, r, e);
      }
    }
    if (metrics != MetricSink.NONE && (ctx.records() % METRICS_EVERY == 1 || isEnd)) {
      for (Detector d : detectors) {
        if (d instanceof MetricsReporter reporter) {
          try {
            reporter.reportMetrics(r, ctx, metrics);
          } catch (RuntimeException e) {
            fail(d, r, e);
          }
        }
      }
    }
    if (isEnd) {
      for (Detector d : detectors) {
        try {
          d.onRunEnd(r, ctx, out);
        } catch (RuntimeException e) {
          fail(d, r, e);
        }
      }
      resolveAll(r.step(), r.timeMs(), "run ended", sink);
      ended = true;
    }
    return true;
  }

  /**
   * The earliest processing time at which a time-driven detector wants to look again with no new
   * step (e.g. when the run would count as stalled), or -1 when none does.
   */
  public long nextDeadline() {
    long due = -1;
    for (TimeDriven t : timeDriven) {
      long d = t.deadline(ctx);
      if (d >= 0 && (due < 0 || d < due)) {
        due = d;
      }
    }
    return due;
  }

  /** Processing time {@code nowMs} has come with no new step: time-driven detectors judge it. */
  public void onProcessingTime(long nowMs, AlertSink sink) {
    target = sink;
    ctx.setNow(nowMs);
    for (TimeDriven t : timeDriven) {
      try {
        t.onTime(nowMs, ctx, tracking);
      } catch (RuntimeException e) {
        failOnTime((Detector) t, e);
      }
    }
  }

  /**
   * The run went silent until the idle timeout and its state is about to be dropped: time-driven
   * detectors report it (a stalled run is resolved as stopped), then every alert still firing is
   * resolved with {@code why}.
   */
  public void expire(long nowMs, String why, AlertSink sink) {
    target = sink;
    ctx.setNow(nowMs);
    for (TimeDriven t : timeDriven) {
      try {
        t.onExpire(nowMs, ctx, tracking);
      } catch (RuntimeException e) {
        failOnTime((Detector) t, e);
      }
    }
    resolveAll(lastStep, System.currentTimeMillis(), why, sink);
  }

  private void failOnTime(Detector d, RuntimeException e) {
    if (detectorFailures++ == 0) {
      LOG.error(
          "detector {} failed on run {} at a processing-time check; skipped (logged once per run)",
          d.name(),
          ctx.run(),
          e);
    }
  }

  private void fail(Detector d, TelemetryRecord r, RuntimeException e) {
    if (detectorFailures++ == 0) {
      LOG.error(
          "detector {} failed on run {} step {}; it is skipped for this record (logged once per run)",
          d.name(),
          r.run(),
          r.step(),
          e);
    }
  }

  public void write(DataOutput out) throws IOException {
    out.writeByte(FORMAT_VERSION);
    out.writeUTF(ctx.run());
    out.writeLong(lastStep);
    out.writeBoolean(ended);
    ctx.write(out);
    out.writeShort(active.size());
    for (AlertEvent a : active.values()) {
      out.writeByte(a.family().ordinal());
      out.writeUTF(a.detector());
      out.writeByte(a.severity().ordinal());
      RunContext.writeNullable(out, a.affectedTask());
      out.writeLong(a.step());
      out.writeLong(a.timeMs());
      RunContext.writeNullable(out, a.summary());
      RunContext.writeNullable(out, a.remedy());
    }
    out.writeShort(detectors.size());
    ByteArrayOutputStream buf = new ByteArrayOutputStream(256);
    for (Detector d : detectors) {
      DetectorStates.write(d, out, buf);
    }
  }

  /**
   * Restores a monitor written by {@link #write}; state of detectors no longer registered is
   * skipped, a detector state of an unknown format version fails with the detector's name.
   */
  public static RunMonitor read(DetectorConfig config, DataInput in) throws IOException {
    return read(config, in, DetectorRegistry::newDetectors);
  }

  /** Restores a monitor whose detectors come from {@code detectors} (tests use their own). */
  public static RunMonitor read(
      DetectorConfig config, DataInput in, Supplier<List<Detector>> detectors) throws IOException {
    int version = in.readByte();
    if (version < 1 || version > FORMAT_VERSION) {
      throw new IOException("unknown run-state format version " + version);
    }
    RunMonitor m = new RunMonitor(in.readUTF(), config, detectors.get());
    m.lastStep = in.readLong();
    m.ended = in.readBoolean();
    m.ctx.read(in, version);
    int alerts = in.readShort();
    for (int i = 0; i < alerts; i++) {
      Family family = Family.values()[in.readByte()];
      String detector = in.readUTF();
      Severity severity = Severity.values()[in.readByte()];
      String task = RunContext.readNullable(in);
      long step = in.readLong();
      long time = in.readLong();
      String summary = RunContext.readNullable(in);
      String remedy = RunContext.readNullable(in);
      AlertEvent a =
          AlertEvent.firing(
                  m.run(), family, detector, severity, step, time, summary, remedy, null, task)
              .withTags(m.ctx.tags());
      m.active.put(a.fingerprint(), a);
    }
    int n = in.readShort();
    for (int i = 0; i < n; i++) {
      if (version >= 3) {
        DetectorStates.read(m.detectors, in);
      } else {
        DetectorStates.readUnversioned(m.detectors, in);
      }
    }
    return m;
  }

  /** Serialised size of this run's state in bytes (reported by the benchmark). */
  public int stateBytes() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try {
      write(new DataOutputStream(b));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return b.size();
  }
}
