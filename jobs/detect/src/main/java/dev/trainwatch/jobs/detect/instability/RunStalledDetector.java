package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.AlertSink;
import dev.trainwatch.jobs.detect.Evidence;
import dev.trainwatch.jobs.detect.Fmt;
import dev.trainwatch.jobs.detect.LatchedDetector;
import dev.trainwatch.jobs.detect.RunContext;
import dev.trainwatch.jobs.detect.Setting;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.jobs.detect.SettingsDef;
import dev.trainwatch.jobs.detect.TimeDriven;
import dev.trainwatch.jobs.detect.Verdict;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Stalled and vanished runs (hangs, dead data loaders, NCCL deadlocks; after NaN the most requested
 * alert in the peers' trackers): a run that sends no new step for much longer than its own usual
 * interval raises {@code run_stalled} (warning), which resolves when steps resume. A run that stays
 * silent until the idle timeout without a {@code run_end} is reported as stopped: the alert
 * resolves with {@code resolved_as: stopped} as the run's state is dropped.
 *
 * <p>Processing time, per run: the interval is that between arrivals of new steps as the monitor
 * sees them (what the stall is measured in), so a replay of old records, whose {@code time_ms} is
 * far in the past, is judged like a live run. The threshold is {@code max(floor_ms, factor x the
 * longest recent interval)}: the longest rather than the typical interval, so a run that pauses for
 * an evaluation every thousand steps does not alarm at every evaluation (NVRx sets hang timeouts at
 * about 5x the observed interval; prime-rl suggests a fixed 10 minutes). Off-line evaluation has no
 * processing time and never fires.
 */
public final class RunStalledDetector extends LatchedDetector implements TimeDriven {

  public static final String NAME = "run_stalled";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS = new SettingsDef("instability.run_stalled.");

  public static final Setting<Integer> FLOOR_MS =
      SETTINGS.integer(
          "floor_ms",
          120_000,
          Setting.atLeast(1000),
          "a run is stalled after no new step for at least this long (processing time, ms)...");
  public static final Setting<Double> FACTOR =
      SETTINGS.number(
          "factor",
          4.0,
          Setting.atLeast(1),
          "...and at least this multiple of the longest interval between its recent steps (NVRx uses ~5x the observed interval)");
  public static final Setting<Double> MEMORY =
      SETTINGS.number(
          "memory",
          0.999,
          Setting.strictlyBetween(0, 1),
          "per-step decay of the longest recent interval (0.999: ~1000 steps, so a periodic evaluation pause is remembered until the next)");

  /** The settings in effect. */
  public record Config(long floorMs, double factor, double memory) {
    public static Config from(Settings s) {
      return new Config(s.get(FLOOR_MS), s.get(FACTOR), s.get(MEMORY));
    }
  }

  private long lastArrivalMs = -1;
  private long lastStep = -1;
  private double longestGapMs;
  private double typicalGapMs = Double.NaN;
  private long stalledSinceMs = -1;

  public RunStalledDetector() {
    super(Family.INSTABILITY, NAME);
  }

  @Override
  protected Verdict judge(TelemetryRecord r, RunContext ctx) {
    long now = ctx.nowMs();
    if (now < 0) {
      return Verdict.HOLD; // no processing time (off-line evaluation)
    }
    Config c = config(ctx, Config.class, Config::from);
    Verdict v = Verdict.HOLD;
    if (lastArrivalMs >= 0) {
      double gap = Math.max(0, now - lastArrivalMs);
      if (firing()) {
        v =
            Verdict.resolve(
                Fmt.fmt(
                    "steps resumed after %s without one (step %d after %d)",
                    duration(gap), r.step(), lastStep),
                Evidence.of()
                    .text("resolved_as", "resumed")
                    .finite("silent_ms", gap)
                    .count("last_step", lastStep));
      }
      // A pause the run came back from is learnt too: a run that evaluates or checkpoints for
      // minutes every few thousand steps alarms at the first such pause, not at every one.
      longestGapMs = Math.max(longestGapMs * c.memory(), gap);
      typicalGapMs = Double.isNaN(typicalGapMs) ? gap : typicalGapMs + 0.05 * (gap - typicalGapMs);
    }
    lastArrivalMs = now;
    lastStep = r.step();
    stalledSinceMs = -1;
    return v;
  }

  /** How long without a new step counts as stalled for this run now (ms). */
  long thresholdMs(Config c) {
    return Math.max(c.floorMs(), (long) Math.ceil(c.factor() * longestGapMs));
  }

  @Override
  public long deadline(RunContext ctx) {
    if (lastArrivalMs < 0 || firing()) {
      return -1;
    }
    return lastArrivalMs + thresholdMs(config(ctx, Config.class, Config::from));
  }

  @Override
  public void onTime(long nowMs, RunContext ctx, AlertSink out) {
    long due = deadline(ctx);
    if (due < 0 || nowMs < due) {
      return;
    }
    Config c = config(ctx, Config.class, Config::from);
    long silent = nowMs - lastArrivalMs;
    stalledSinceMs = nowMs;
    apply(
        Verdict.warning(
            Fmt.fmt(
                "run stalled: no new step for %s since step %d (its steps usually come every %s, the longest"
                    + " recent gap was %s; stalled means %s without one)",
                duration(silent),
                lastStep,
                duration(typicalGapMs),
                duration(longestGapMs),
                duration(thresholdMs(c))),
            "Check the training process: a hang (NCCL/collective deadlock, dead data-loader worker, full disk), "
                + "a crash without run_end, or a preempted node. py-spy dump --pid <pid> shows where it waits.",
            Evidence.of()
                .text("trigger", "no_new_step")
                .finite("silent_ms", silent)
                .count("last_step", lastStep)
                .finite("typical_interval_ms", typicalGapMs)
                .finite("longest_interval_ms", longestGapMs)
                .count("threshold_ms", thresholdMs(c))),
        ctx,
        lastStep,
        -1,
        out);
  }

  @Override
  public void onExpire(long nowMs, RunContext ctx, AlertSink out) {
    if (!firing()) {
      return;
    }
    long silent = nowMs - lastArrivalMs;
    apply(
        Verdict.resolve(
            Fmt.fmt(
                "run stopped: no step for %s after step %d and no run_end;"
                    + " its state is dropped",
                duration(silent), lastStep),
            Evidence.of()
                .text("resolved_as", "stopped")
                .finite("silent_ms", silent)
                .count("last_step", lastStep)),
        ctx,
        lastStep,
        -1,
        out);
  }

  /** "45 s", "3.5 min", "2.0 h": a duration in the unit a user reads at a glance. */
  static String duration(double ms) {
    if (!Double.isFinite(ms)) {
      return "unknown";
    }
    if (ms < 1000) {
      return Fmt.fmt("%.0f ms", ms);
    }
    if (ms < 120_000) {
      return Fmt.fmt("%.0f s", ms / 1000);
    }
    if (ms < 7_200_000) {
      return Fmt.fmt("%.1f min", ms / 60_000);
    }
    return Fmt.fmt("%.1f h", ms / 3_600_000);
  }

  @Override
  protected void writeRuleState(DataOutput out) throws IOException {
    out.writeLong(lastArrivalMs);
    out.writeLong(lastStep);
    out.writeDouble(longestGapMs);
    out.writeDouble(typicalGapMs);
    out.writeLong(stalledSinceMs);
  }

  @Override
  protected void readRuleState(DataInput in, int version) throws IOException {
    lastArrivalMs = in.readLong();
    lastStep = in.readLong();
    longestGapMs = in.readDouble();
    typicalGapMs = in.readDouble();
    stalledSinceMs = in.readLong();
  }
}
