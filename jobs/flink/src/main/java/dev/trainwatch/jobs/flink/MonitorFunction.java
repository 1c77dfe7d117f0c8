package dev.trainwatch.jobs.flink;

import dev.trainwatch.jobs.detect.AlertSink;
import dev.trainwatch.jobs.detect.Detector;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.DetectorRegistry;
import dev.trainwatch.jobs.detect.MetricSink;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.jobs.storage.DetectorMetric;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.DeadLetter;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryBinary;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Thin Flink adapter around {@link RunMonitor}, keyed by run: validates the raw record, loads the
 * run's monitor from keyed state, feeds it the record, emits its alerts, and clears the state when
 * the run ends ({@code run_end}) or goes idle.
 *
 * <p>Validation happens here, after the shuffle, rather than in front of it: shipping the raw bytes
 * between tasks costs a copy, shipping a parsed record costs ~20 metric-name strings serialised and
 * re-created per record, which halved the job's throughput. Invalid records go to {@link
 * #DEAD_LETTERS} with the parser's reason; valid ones also go to {@link #RECORDS} for storage, and
 * the detectors' metrics to {@link #METRICS}.
 *
 * <p>Every run's state has a way out, and every run is watched for stalls, with one processing-time
 * timer per run at the earlier of its stall deadline ({@code run_stalled}: no new step for much
 * longer than the run's own usual interval) and its idle cut-off. A record moves the timer only
 * when it would fire too late (never, in steady state); a timer that fires with nothing due
 * re-arms, so an active run costs one timer firing per stall threshold (2 minutes or more). At the
 * cut-off the run is expired: a stalled run is reported as stopped, alerts still firing are
 * resolved ("run idle") and the state is dropped, so no alert is left open forever.
 *
 * <p>The hot path does one keyed-state lookup per record, and an update only with a serializing
 * backend (RocksDB; on the heap the state object is changed in place); the timer's time lives in
 * {@link RunState} beside the detectors. It allocates nothing of its own: the sinks the monitor
 * reports into are one reusable object rather than two capturing lambdas per record.
 */
public final class MonitorFunction extends KeyedProcessFunction<String, RawTelemetry, AlertEvent>
    implements CheckpointedFunction, CheckpointListener {

  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(MonitorFunction.class);

  /**
   * The default of {@code state.max-active-runs}: 100,000 runs x ~1.5 KB = ~150 MB of state per
   * instance.
   */
  public static final int DEFAULT_MAX_ACTIVE_RUNS = 100_000;

  /** One log line per TaskManager JVM about aborted checkpoints, however often the job restarts. */
  private static final AtomicBoolean ABORT_LOGGED = new AtomicBoolean();

  /** Side output: input that failed validation, with the reason. */
  public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

  /** Side output: every valid record (for storage). */
  public static final OutputTag<TelemetryRecord> RECORDS = new OutputTag<>("records") {};

  /** Side output: the detectors' internal numbers every few records of a run (for storage). */
  public static final OutputTag<DetectorMetric> METRICS = new OutputTag<>("detector-metrics") {};

  /** Makes the detectors of a new run; serializable so the function ships to task managers. */
  public interface DetectorFactory extends Serializable, Supplier<List<Detector>> {}

  private final DetectorConfig config;
  private final long idleTimeoutMs;
  private final DetectorFactory detectors;
  private final String topic;
  private final int maxActiveRuns;
  private transient ValueState<RunState> runState;

  /** Whether the detectors' metrics go to {@link #METRICS} (false: nothing reads them). */
  private boolean collectMetrics = true;

  /** Runs with state in this instance; checkpointed, so the cap holds across restores. */
  private transient long activeRuns;

  private transient ListState<Long> activeRunsState;

  /**
   * Whether the state backend hands out the stored object itself (heap), found on the first update:
   * then a run's state changed in place needs no {@code update} per record.
   */
  private transient boolean stateByReference;

  private transient boolean stateProbed;
  private transient Counter runsRefused;
  private transient Counter checkpointsAborted;
  private transient Emitter emitter;
  private transient Counter alertsEmitted;
  private transient Counter runsExpired;
  private transient Counter malformed;

  /** This slot's parser: its fast-path caches are then the slot's own, not shared by every slot. */
  private transient TelemetryParser parser;

  /** This slot's reader of the sidecar's binary form (its metric-name shapes are the slot's). */
  private transient TelemetryBinary.Decoder decoder;

  public MonitorFunction(DetectorConfig config, long idleTimeoutMs, String topic) {
    this(config, idleTimeoutMs, topic, DEFAULT_MAX_ACTIVE_RUNS);
  }

  public MonitorFunction(
      DetectorConfig config, long idleTimeoutMs, String topic, int maxActiveRuns) {
    this(config, idleTimeoutMs, topic, DetectorRegistry::newDetectors, maxActiveRuns);
  }

  public MonitorFunction(
      DetectorConfig config, long idleTimeoutMs, String topic, DetectorFactory detectors) {
    this(config, idleTimeoutMs, topic, detectors, DEFAULT_MAX_ACTIVE_RUNS);
  }

  public MonitorFunction(
      DetectorConfig config,
      long idleTimeoutMs,
      String topic,
      DetectorFactory detectors,
      int maxActiveRuns) {
    if (idleTimeoutMs <= 0) {
      throw new IllegalArgumentException("idleTimeoutMs must be > 0, got " + idleTimeoutMs);
    }
    if (maxActiveRuns < 1) {
      throw new IllegalArgumentException("maxActiveRuns must be >= 1, got " + maxActiveRuns);
    }
    this.maxActiveRuns = maxActiveRuns;
    this.config = config;
    this.idleTimeoutMs = idleTimeoutMs;
    this.topic = topic;
    this.detectors = detectors;
  }

  /**
   * Whether to collect the detectors' metrics into {@link #METRICS} (default true); the job turns
   * it off when no consumer (storage) reads that output.
   */
  public MonitorFunction collectMetrics(boolean collect) {
    this.collectMetrics = collect;
    return this;
  }

  boolean collectsMetrics() {
    return collectMetrics;
  }

  @Override
  public void open(OpenContext ctx) {
    runState =
        getRuntimeContext()
            .getState(new ValueStateDescriptor<>("run", RunStateSerializer.INSTANCE));
    parser = new TelemetryParser(TelemetryParser.Limits.DEFAULT);
    decoder = new TelemetryBinary.Decoder(TelemetryParser.Limits.DEFAULT);
    alertsEmitted = getRuntimeContext().getMetricGroup().counter("alertsEmitted");
    runsExpired = getRuntimeContext().getMetricGroup().counter("runsExpired");
    malformed = getRuntimeContext().getMetricGroup().counter("malformedRecords");
    runsRefused = getRuntimeContext().getMetricGroup().counter("runsRefused");
    checkpointsAborted = getRuntimeContext().getMetricGroup().counter("checkpointsAborted");
    getRuntimeContext().getMetricGroup().gauge("activeRuns", () -> activeRuns);
    emitter = new Emitter();
  }

  @Override
  public void initializeState(FunctionInitializationContext context) throws Exception {
    // Union state, each entry (subtask index << 40 | count): with the parallelism unchanged an
    // instance takes back its own count; after a rescale it takes an even share of the total,
    // an estimate (keys do not split evenly) that becomes exact again as runs end or go idle.
    activeRunsState =
        context
            .getOperatorStateStore()
            .getUnionListState(new ListStateDescriptor<>("active-runs", Long.class));
    int index = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
    long total = 0;
    long own = 0;
    int parts = 0;
    for (Long entry : activeRunsState.get()) {
      long count = entry & COUNT_MASK;
      total += count;
      parts++;
      if ((int) (entry >>> 40) == index) {
        own = count;
      }
    }
    activeRuns = parts == 0 ? 0 : parts == parallelism ? own : total / parallelism;
  }

  private static final long COUNT_MASK = (1L << 40) - 1;

  @Override
  public void snapshotState(FunctionSnapshotContext context) throws Exception {
    long index = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    activeRunsState.update(List.of(index << 40 | Math.max(activeRuns, 0)));
  }

  @Override
  public void notifyCheckpointComplete(long checkpointId) {}

  @Override
  public void notifyCheckpointAborted(long checkpointId) {
    checkpointsAborted.inc();
    if (ABORT_LOGGED.compareAndSet(false, true)) {
      LOG.error(
          "checkpoint {} was aborted with {} active runs in this instance; exactly-once alerts are held "
              + "back until a checkpoint completes. The JobManager log names the cause; the usual ones: checkpoint "
              + "storage unreachable or full (checkpoint.dir), or state beyond what it can hold (without "
              + "checkpoint.dir Flink keeps checkpoints in the JobManager's heap, limited to 5 MiB). Counted in the "
              + "metric checkpointsAborted; logged once per TaskManager.",
          checkpointId,
          activeRuns);
    }
  }

  @Override
  public void processElement(RawTelemetry raw, Context ctx, Collector<AlertEvent> out)
      throws Exception {
    byte[] value = raw.value();
    // the sidecar's binary form, or JSON from any other producer (told apart by the first byte)
    ParseResult parsed =
        TelemetryBinary.isBinary(value) ? decoder.decode(value) : parser.parse(value);
    if (parsed instanceof ParseResult.Rejected r) {
      malformed.inc();
      ctx.output(
          DEAD_LETTERS,
          new DeadLetter(
              r.reason(), r.run(), raw.origin(topic), payload(value), System.currentTimeMillis()));
      return;
    }
    TelemetryRecord record = ((ParseResult.Parsed) parsed).record();
    ctx.output(RECORDS, record);
    RunState state = runState.value();
    boolean created = state == null;
    if (created) {
      if (activeRuns >= maxActiveRuns) {
        runsRefused.inc();
        ctx.output(
            DEAD_LETTERS,
            new DeadLetter(
                "run refused: "
                    + maxActiveRuns
                    + " active runs in this instance of "
                    + "the job (state.max-active-runs); a run is admitted once another ends or goes idle",
                record.run(),
                raw.origin(topic),
                payload(value),
                System.currentTimeMillis()));
        return;
      }
      state = new RunState(new RunMonitor(record.run(), config, detectors.get()), 0);
      activeRuns++;
    } else {
      state.monitor.configure(config);
    }
    long now = ctx.timerService().currentProcessingTime();
    emitter.set(record, ctx, out);
    boolean fresh;
    try {
      fresh =
          state.monitor.observe(record, emitter, collectMetrics ? emitter : MetricSink.NONE, now);
    } finally {
      emitter.set(null, null, null);
    }
    if (state.monitor.ended()) {
      cancelTimer(ctx, state);
      runState.clear();
      activeRuns--;
      return;
    }
    if (fresh || state.lastSeenMs == 0) {
      state.lastSeenMs = now;
    }
    armTimer(ctx, state);
    if (created || !stateByReference) {
      runState.update(state);
      if (!stateProbed) {
        // The heap backend keeps the object itself (copying it first if a snapshot still holds
        // it), so a change in place is the update, and the put, a second hash lookup per record,
        // can be left out; a serializing backend (RocksDB) hands out a copy on every read.
        stateByReference = runState.value() == state;
        stateProbed = true;
      }
    }
  }

  /** A dead letter's payload: JSON as text, the binary form as base64 (marked as such). */
  static String payload(byte[] value) {
    return TelemetryBinary.isBinary(value)
        ? "base64:" + Base64.getEncoder().encodeToString(value)
        : new String(value, StandardCharsets.UTF_8);
  }

  /**
   * One processing-time timer per run, at the earlier of the run's stall deadline and its idle
   * cut-off. It is moved only when it would fire too late; one that fires early (the run kept
   * sending) looks, finds nothing due and re-arms. So a record costs no timer operation, and an
   * active run's timer fires about once per stall threshold (2 minutes or more).
   */
  private void armTimer(TimerService timers, RunState state) {
    long due = due(state);
    if (state.idleTimerAt != 0 && state.idleTimerAt <= due) {
      return;
    }
    if (state.idleTimerAt != 0) {
      timers.deleteProcessingTimeTimer(state.idleTimerAt);
    }
    state.idleTimerAt = due;
    timers.registerProcessingTimeTimer(due);
  }

  private void armTimer(Context ctx, RunState state) {
    armTimer(ctx.timerService(), state);
  }

  /** The stall deadline of the run's time-driven detectors, or the idle cut-off if earlier. */
  private long due(RunState state) {
    long idle = state.lastSeenMs + idleTimeoutMs;
    long stall = state.monitor.nextDeadline();
    return stall >= 0 && stall < idle ? stall : idle;
  }

  private static void cancelTimer(Context ctx, RunState state) {
    if (state.idleTimerAt != 0) {
      ctx.timerService().deleteProcessingTimeTimer(state.idleTimerAt);
      state.idleTimerAt = 0;
    }
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<AlertEvent> out)
      throws Exception {
    RunState state = runState.value();
    if (state == null) {
      return;
    }
    if (state.idleTimerAt != timestamp) {
      return; // not the run's current timer (moved timers are deleted; this only guards restores)
    }
    state.idleTimerAt = 0;
    RunMonitor monitor = state.monitor;
    if (timestamp - state.lastSeenMs >= idleTimeoutMs) {
      monitor.expire(
          timestamp, "run idle for " + idleTimeoutMs / 1000 + " s; state dropped", out::collect);
      activeRuns--;
      runsExpired.inc();
      runState.clear();
      return;
    }
    monitor.onProcessingTime(timestamp, out::collect);
    armTimer(ctx.timerService(), state);
    runState.update(state);
  }

  /**
   * Where a run's monitor reports: alerts to the main output, detector metrics to {@link #METRICS}.
   */
  private final class Emitter implements AlertSink, MetricSink {
    private TelemetryRecord record;
    private Context ctx;
    private Collector<AlertEvent> out;

    void set(TelemetryRecord record, Context ctx, Collector<AlertEvent> out) {
      this.record = record;
      this.ctx = ctx;
      this.out = out;
    }

    @Override
    public void emit(AlertEvent alert) {
      alertsEmitted.inc();
      out.collect(alert);
    }

    @Override
    public void metric(String detector, String name, double value) {
      ctx.output(
          METRICS,
          new DetectorMetric(record.run(), record.step(), record.timeMs(), detector, name, value));
    }
  }
}
