package dev.trainwatch.jobs.flink;

import dev.trainwatch.jobs.detect.Detector;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.DetectorRegistry;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.jobs.storage.DetectorMetric;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.DeadLetter;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Thin Flink adapter around {@link RunMonitor}, keyed by run: validates the raw record,
 * loads the run's monitor from keyed state, feeds it the record, emits its alerts, and
 * clears the state when the run ends ({@code run_end}) or goes idle.
 *
 * <p>Validation happens here, after the shuffle, rather than in front of it: shipping the raw
 * bytes between tasks costs a copy, shipping a parsed record costs ~20 metric-name strings
 * serialised and re-created per record, which halved the job's throughput. Invalid records go
 * to {@link #DEAD_LETTERS} with the parser's reason; valid ones also go to {@link #RECORDS}
 * for storage, and the detectors' metrics to {@link #METRICS}.
 *
 * <p>Every run's state has a way out. Idle detection uses one processing-time timer per run,
 * re-armed at most once per {@code idleTimeoutMs / 4}: re-arming on every record would mean a
 * timer delete and insert per record; coarse re-arming makes the idle cut-off fire between
 * 1x and 1.25x the timeout, which is precise enough for cleanup. On idle, alerts still firing
 * are resolved ("run idle") before the state is dropped, so no alert is left open forever.
 */
public final class MonitorFunction extends KeyedProcessFunction<String, RawTelemetry, AlertEvent> {

  private static final long serialVersionUID = 1L;

  /** Side output: input that failed validation, with the reason. */
  public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};
  /** Side output: every valid record (for storage). */
  public static final OutputTag<TelemetryRecord> RECORDS = new OutputTag<>("records") {};
  /** Side output: the detectors' internal numbers every few records of a run (for storage). */
  public static final OutputTag<DetectorMetric> METRICS = new OutputTag<>("detector-metrics") {};

  /** Makes the detectors of a new run; serializable so the function ships to task managers. */
  public interface DetectorFactory extends java.io.Serializable, Supplier<List<Detector>> {}

  private final DetectorConfig config;
  private final long idleTimeoutMs;
  private final DetectorFactory detectors;
  private final String topic;
  private transient ValueState<RunMonitor> monitorState;
  private transient ValueState<Long> timerState;
  private transient Counter alertsEmitted;
  private transient Counter runsExpired;
  private transient Counter malformed;

  public MonitorFunction(DetectorConfig config, long idleTimeoutMs, String topic) {
    this(config, idleTimeoutMs, topic, DetectorRegistry::newDetectors);
  }

  public MonitorFunction(DetectorConfig config, long idleTimeoutMs, String topic, DetectorFactory detectors) {
    if (idleTimeoutMs <= 0) {
      throw new IllegalArgumentException("idleTimeoutMs must be > 0, got " + idleTimeoutMs);
    }
    this.config = config;
    this.idleTimeoutMs = idleTimeoutMs;
    this.topic = topic;
    this.detectors = detectors;
  }

  @Override
  public void open(OpenContext ctx) {
    monitorState = getRuntimeContext().getState(
        new ValueStateDescriptor<>("run-monitor", RunMonitorSerializer.INSTANCE));
    timerState = getRuntimeContext().getState(new ValueStateDescriptor<>("idle-timer", Long.class));
    alertsEmitted = getRuntimeContext().getMetricGroup().counter("alertsEmitted");
    runsExpired = getRuntimeContext().getMetricGroup().counter("runsExpired");
    malformed = getRuntimeContext().getMetricGroup().counter("malformedRecords");
  }

  @Override
  public void processElement(RawTelemetry raw, Context ctx, Collector<AlertEvent> out) throws Exception {
    ParseResult parsed = TelemetryParser.DEFAULT.parse(raw.value());
    if (parsed instanceof ParseResult.Rejected r) {
      malformed.inc();
      ctx.output(DEAD_LETTERS, new DeadLetter(r.reason(), r.run(), raw.origin(topic),
          new String(raw.value(), StandardCharsets.UTF_8), System.currentTimeMillis()));
      return;
    }
    TelemetryRecord record = ((ParseResult.Parsed) parsed).record();
    ctx.output(RECORDS, record);
    RunMonitor monitor = monitorState.value();
    if (monitor == null) {
      monitor = new RunMonitor(record.run(), config, detectors.get());
    } else {
      monitor.configure(config);
    }
    monitor.observe(record, alert -> {
      alertsEmitted.inc();
      out.collect(alert);
    }, (detector, name, value) -> ctx.output(METRICS,
        new DetectorMetric(record.run(), record.step(), record.timeMs(), detector, name, value)));
    if (monitor.ended()) {
      clear(ctx);
      return;
    }
    monitorState.update(monitor);
    armIdleTimer(ctx);
  }

  private void armIdleTimer(Context ctx) throws Exception {
    long now = ctx.timerService().currentProcessingTime();
    Long armed = timerState.value();
    if (armed != null && armed - now >= idleTimeoutMs - idleTimeoutMs / 4) {
      return; // still far enough out
    }
    if (armed != null) {
      ctx.timerService().deleteProcessingTimeTimer(armed);
    }
    long at = now + idleTimeoutMs;
    ctx.timerService().registerProcessingTimeTimer(at);
    timerState.update(at);
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<AlertEvent> out) throws Exception {
    RunMonitor monitor = monitorState.value();
    if (monitor != null) {
      monitor.resolveAll(monitor.lastStep(), System.currentTimeMillis(),
          "run idle for " + idleTimeoutMs / 1000 + " s; state dropped", out::collect);
    }
    runsExpired.inc();
    monitorState.clear();
    timerState.clear();
  }

  private void clear(Context ctx) throws Exception {
    Long armed = timerState.value();
    if (armed != null) {
      ctx.timerService().deleteProcessingTimeTimer(armed);
    }
    monitorState.clear();
    timerState.clear();
  }
}
