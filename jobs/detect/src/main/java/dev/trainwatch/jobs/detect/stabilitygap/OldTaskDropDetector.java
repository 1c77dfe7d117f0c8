package dev.trainwatch.jobs.detect.stabilitygap;

import dev.trainwatch.jobs.detect.AlertSink;
import dev.trainwatch.jobs.detect.ConfiguredDetector;
import dev.trainwatch.jobs.detect.Evidence;
import dev.trainwatch.jobs.detect.Fmt;
import dev.trainwatch.jobs.detect.MetricSink;
import dev.trainwatch.jobs.detect.MetricsReporter;
import dev.trainwatch.jobs.detect.RunContext;
import dev.trainwatch.jobs.detect.Setting;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.jobs.detect.SettingsDef;
import dev.trainwatch.jobs.detect.Verdict;
import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The stability gap (De Lange et al., ICLR 2023): right after a task switch, accuracy on earlier
 * tasks drops sharply and then partly recovers. At each switch (a change of the run's {@code task})
 * every earlier task with evaluations gets an episode whose baseline is the mean of its last {@code
 * pre_evals} accuracies; an evaluation of that task within {@code window_steps} of the switch that
 * lies {@code warn_drop} (or, for a noisy eval set, {@code noise_k} noise deviations) below the
 * baseline fires a warning for that task, {@code critical_drop} below fires critical. The alert
 * tracks the minimum and resolves when the accuracy is back within {@code recover_drop} of the
 * baseline for {@code recover_steps}, or when no new minimum came for {@code settle_steps} (the gap
 * is over and what remains is lasting forgetting); the resolved event reports depth, time to the
 * minimum and time to recovery. One latch per affected task, so each task's alert has its own
 * fingerprint.
 *
 * <p>Alongside, it keeps the continual-evaluation metrics (min-ACC, WC-ACC, WF^w, WP^w for w = 10,
 * 100), returned by {@link #snapshot()} for storage and added to every alert.
 *
 * <pre>{@code
 * OldTaskDropDetector d = new OldTaskDropDetector();
 * d.observe(record, ctx, alerts::add);
 * ContinualMetrics m = d.snapshot();
 * }</pre>
 */
public final class OldTaskDropDetector extends ConfiguredDetector implements MetricsReporter {

  // Not a LatchedDetector: one alert per affected task, each with its own AlertLatch in its
  // TaskTrack; GapEpisode is the rule, and its verdicts become Verdicts applied to that latch.

  public static final String NAME = "old_task_drop";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS = new SettingsDef("stability_gap.old_task_drop.");

  public static final Setting<Double> WARN_DROP =
      SETTINGS.number(
          "warn_drop",
          0.10,
          Setting.between(0, 1),
          "accuracy drop below the pre-switch baseline that fires a warning (DETECTORS.md; 7 standard errors of a 1000-sample eval set, so a 1-2 point wobble never fires)");
  public static final Setting<Double> CRITICAL_DROP =
      SETTINGS.number(
          "critical_drop",
          0.25,
          Setting.between(0, 1),
          "drop that makes the alert critical: a quarter of the task's accuracy gone");
  public static final Setting<Double> NOISE_K =
      SETTINGS.number(
          "noise_k",
          4.0,
          Setting.atLeast(0),
          "on noisy eval sets the warning threshold rises to `noise_k` standard deviations of (baseline - one eval); the noise is the mean-square-successive-difference estimate over `noise_evals` pre-switch evals, which ignores slow trends");
  public static final Setting<Integer> PRE_EVALS =
      SETTINGS.integer(
          "pre_evals",
          5,
          Setting.atLeast(1),
          "evaluations averaged into the pre-switch baseline (and into the settled level)");
  public static final Setting<Integer> NOISE_EVALS =
      SETTINGS.integer(
          "noise_evals",
          20,
          Setting.atLeast(1),
          "pre-switch evaluations over which eval noise is estimated");
  public static final Setting<Integer> MIN_PRE_EVALS =
      SETTINGS.integer(
          "min_pre_evals",
          3,
          Setting.atLeast(1),
          "evaluations a task needs before a switch to be watched");
  public static final Setting<Integer> WINDOW_STEPS =
      SETTINGS.integer(
          "window_steps",
          100,
          Setting.atLeast(0),
          "steps after a switch during which a drop opens an alert; later declines are slow forgetting, not a gap");
  public static final Setting<Double> RECOVER_DROP =
      SETTINGS.number(
          "recover_drop",
          0.05,
          Setting.between(0, 1),
          "recovered once within this of the baseline (half of `warn_drop`: hysteresis)");
  public static final Setting<Integer> RECOVER_STEPS =
      SETTINGS.integer(
          "recover_steps",
          20,
          Setting.atLeast(0),
          "... and stayed there this many steps (a one-eval rebound does not resolve)");
  public static final Setting<Integer> RECOVER_EVALS =
      SETTINGS.integer(
          "recover_evals", 2, Setting.atLeast(1), "... over at least this many evaluations");
  public static final Setting<Double> NEW_MIN_MARGIN =
      SETTINGS.number(
          "new_min_margin",
          0.02,
          Setting.between(0, 1),
          "a low deeper than the previous one by more than this restarts the settle clock; also the level resolution of the time-to-recovery estimate");
  public static final Setting<Integer> SETTLE_STEPS =
      SETTINGS.integer(
          "settle_steps",
          50,
          Setting.atLeast(0),
          "resolve as settled when no new low came for this many steps (guarantees every alert resolves)");
  public static final Setting<Integer> MAX_TASKS =
      SETTINGS.integer(
          "max_tasks",
          32,
          Setting.between(1, 255),
          "tasks tracked per run (bounds the state; later tasks are ignored)");
  private static final String PREFIX = MetricNames.EVAL_ACC_TASK;
  private static final String REMEDY =
      "Earlier-task accuracy collapses right after a task switch: "
          + "warm up or lower the learning rate at the switch, raise the replay ratio or replay "
          + "batch, add distillation/regularisation towards the previous model (LwF, EWC), or use "
          + "a constraint-based replay (A-GEM). If it must not dip at all, evaluate the old tasks "
          + "per iteration and keep the pre-switch checkpoint.";

  /**
   * Thresholds of the stability-gap rule; keys {@code stability_gap.old_task_drop.<param>}.
   *
   * @param warnDrop accuracy drop below the pre-switch level that fires a warning (0.10): the De
   *     Lange et al. / DETECTORS.md criterion; 7 standard errors of a 1000-sample eval set, so a
   *     1-2 point wobble never fires
   * @param criticalDrop drop that makes it critical (0.25): a quarter of the task's accuracy gone,
   *     the depth where a deployed model would fail visibly; the public gaps fall 0.2-0.6, so this
   *     separates moderate from severe dips
   * @param noiseK on noisy eval sets the warning threshold rises to noise_k times the standard
   *     deviation of (baseline - one eval) (4.0): keeps false alarms below ~1e-4 per eval where
   *     evals are too small for a 0.10 drop to be significant
   * @param preEvals evaluations averaged into the pre-switch baseline (5): one eval is noisy; 5
   *     keep the baseline close to the end-of-task level
   * @param noiseEvals evaluations before the switch over which eval noise is estimated (20)
   * @param minPreEvals evaluations a task needs before a switch to get an episode (3)
   * @param windowSteps steps after a switch during which a drop opens an alert (100): the gap forms
   *     within tens of iterations; later declines are slow forgetting, not a gap
   * @param recoverDrop the alert resolves as recovered once the accuracy is within this of the
   *     baseline (0.05): half the warning drop, hysteresis so it does not flap
   * @param recoverSteps ... and has stayed there for at least this many steps (20)
   * @param recoverEvals ... over at least this many evaluations (2)
   * @param newMinMargin a minimum lower than the previous one by more than this is a new low that
   *     restarts the settle clock (0.02): smaller moves are eval noise at the bottom
   * @param settleSteps the alert resolves as settled when no new low came for this many steps (50):
   *     the gap is over and the rest is lasting forgetting; guarantees every alert resolves
   * @param maxTasks tasks tracked per run (32): bounds the state; later tasks are ignored
   */
  public record Config(
      double warnDrop,
      double criticalDrop,
      double noiseK,
      int preEvals,
      int noiseEvals,
      int minPreEvals,
      long windowSteps,
      double recoverDrop,
      long recoverSteps,
      int recoverEvals,
      double newMinMargin,
      long settleSteps,
      int maxTasks) {

    public static final Config DEFAULTS = from(Settings.DEFAULTS);

    public Config {
      if (!(warnDrop > 0
          && criticalDrop >= warnDrop
          && recoverDrop >= 0
          && recoverDrop < warnDrop)) {
        throw new IllegalArgumentException(
            "stability_gap.old_task_drop: need 0 < warn_drop <= critical_drop"
                + " and 0 <= recover_drop < warn_drop, got "
                + warnDrop
                + ", "
                + criticalDrop
                + ", "
                + recoverDrop);
      }
      if (preEvals < 1 || minPreEvals < 1 || noiseEvals < 1 || maxTasks < 1 || maxTasks > 255) {
        throw new IllegalArgumentException(
            "stability_gap.old_task_drop: pre_evals, min_pre_evals and"
                + " noise_evals must be >= 1 and max_tasks in 1..255");
      }
    }

    public static Config from(Settings s) {
      return new Config(
          s.get(WARN_DROP),
          s.get(CRITICAL_DROP),
          s.get(NOISE_K),
          s.get(PRE_EVALS),
          s.get(NOISE_EVALS),
          s.get(MIN_PRE_EVALS),
          s.get(WINDOW_STEPS),
          s.get(RECOVER_DROP),
          s.get(RECOVER_STEPS),
          s.get(RECOVER_EVALS),
          s.get(NEW_MIN_MARGIN),
          s.get(SETTLE_STEPS),
          s.get(MAX_TASKS));
    }
  }

  private final List<TaskTrack> tasks = new ArrayList<>();
  private String currentTask;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void observe(TelemetryRecord r, RunContext ctx, AlertSink out) {
    Config c = config(ctx, Config.class, Config::from);
    String task = ctx.task();
    if (task != null && !task.equals(currentTask)) {
      if (currentTask != null) {
        onSwitch(r, task, c, ctx, out);
      }
      currentTask = task;
    }
    Metrics m = r.metrics();
    for (int i = 0; i < m.size(); i++) {
      String n = m.name(i);
      if (n.startsWith(PREFIX) && n.length() > PREFIX.length()) {
        double acc = normalise(m.value(i));
        if (!Double.isNaN(acc)) {
          TaskTrack t = track(n, c);
          if (t != null) {
            onEval(t, r, acc, c, ctx, out);
          }
        }
      }
    }
  }

  /** Accuracy as a fraction; percentages (1, 100] are scaled; anything else is NaN. */
  static double normalise(double v) {
    if (v >= 0 && v <= 1) {
      return v;
    }
    return v > 1 && v <= 100 ? v / 100 : Double.NaN;
  }

  private TaskTrack track(String metric, Config c) {
    for (int i = 0; i < tasks.size(); i++) {
      if (tasks.get(i).isMetric(metric, PREFIX.length())) {
        return tasks.get(i);
      }
    }
    return tasks.size() < c.maxTasks() ? add(metric.substring(PREFIX.length())) : null;
  }

  private TaskTrack find(String task) {
    for (TaskTrack t : tasks) {
      if (t.name.equals(task)) {
        return t;
      }
    }
    return null;
  }

  private TaskTrack add(String task) {
    TaskTrack t = new TaskTrack(task);
    tasks.add(t);
    return t;
  }

  private void onSwitch(TelemetryRecord r, String next, Config c, RunContext ctx, AlertSink out) {
    TaskTrack left = find(currentTask);
    if (left != null) {
      left.learned = true;
    }
    for (TaskTrack t : tasks) {
      if (t.episode.open) {
        resolve(t, r, "task switch to " + next + " before it recovered", false, ctx, out);
      }
      // Only tasks trained before: a task evaluated ahead of its turn (domain-incremental
      // set-ups evaluate all of them from the start) sits near chance and has nothing to lose.
      if ((t.learned || t.trained) && !t.name.equals(next) && t.filled() >= c.minPreEvals()) {
        double noise = t.noise(c.noiseEvals());
        double sdDiff = noise * Math.sqrt(1.0 + 1.0 / Math.min(c.preEvals(), t.filled()));
        // The level the task had when training moved on: the mean of its last evals, or the last
        // one when higher (a task still rising at the switch, as in slow domain-incremental
        // set-ups, would otherwise get a baseline below where it stood and a shallow drop would
        // look shallower still; the labels measure from the last eval before the switch).
        double pre = Math.max(t.mean(c.preEvals()), t.get(1));
        t.episode.open(r.step(), pre, noise, Math.max(c.warnDrop(), c.noiseK() * sdDiff));
      }
    }
  }

  private void onEval(
      TaskTrack t, TelemetryRecord r, double acc, Config c, RunContext ctx, AlertSink out) {
    t.add(acc, t.name.equals(currentTask));
    GapEpisode e = t.episode;
    if (!e.open) {
      return;
    }
    switch (e.observe(r.step(), acc, c, t.latch.severity())) {
      case WARNING -> raise(t, Severity.WARNING, r, acc, ctx, out);
      case CRITICAL -> raise(t, Severity.CRITICAL, r, acc, ctx, out);
      case RECOVERED -> resolve(t, r, "recovered", true, ctx, out);
      case SETTLED -> resolve(t, r, "settled", false, ctx, out);
      case EXPIRED -> e.close();
      default -> {}
    }
  }

  private void raise(
      TaskTrack t, Severity s, TelemetryRecord r, double acc, RunContext ctx, AlertSink out) {
    GapEpisode e = t.episode;
    double threshold =
        s == Severity.CRITICAL
            ? Math.max(config(ctx, Config.class, Config::from).criticalDrop(), e.threshold)
            : e.threshold;
    Evidence ev =
        Evidence.of()
            .text("affected_task", t.name)
            .text("new_task", currentTask)
            .count("switch_step", e.switchStep)
            .num("value", acc)
            .num("baseline", e.pre)
            .num("drop", e.pre - acc)
            .num("threshold", threshold)
            .num("noise_sd", e.noise)
            .num("min_acc", e.minAcc)
            .count("min_step", e.minStep)
            .count("steps_since_switch", r.step() - e.switchStep);
    putMetrics(ev);
    String summary =
        Fmt.fmt(
            "Stability gap: %s accuracy %.3f is %.3f below its pre-switch %.3f, %d steps after the switch to %s",
            t.name, acc, e.pre - acc, e.pre, r.step() - e.switchStep, currentTask);
    t.latch.apply(Verdict.fire(s, summary, REMEDY, ev), ctx, r.step(), r.timeMs(), out);
  }

  private void resolve(
      TaskTrack t,
      TelemetryRecord r,
      String how,
      boolean recovered,
      RunContext ctx,
      AlertSink out) {
    GapEpisode e = t.episode;
    e.close();
    if (!t.latch.isFiring()) {
      return;
    }
    // Recovered: back within recover_drop of the baseline. Otherwise recovery is measured
    // to the level it settled at (mean of the evals since the minimum, at most pre_evals of
    // them), like the labels' "acc >= window_final - 0.05".
    Config c = config(ctx, Config.class, Config::from);
    double level = recovered ? e.pre : t.mean(Math.max(1, Math.min(c.preEvals(), e.evalsSinceMin)));
    long at =
        recovered
            ? e.recoveredSince
            : e.firstStepAtOrAbove(level - c.recoverDrop(), c.newMinMargin());
    Evidence ev =
        Evidence.of()
            .text("affected_task", t.name)
            .count("switch_step", e.switchStep)
            .num("baseline", e.pre)
            .num("depth", e.depth())
            .num("min_acc", e.minAcc)
            .count("min_step", e.minStep)
            .count("steps_to_min", e.minStep - e.switchStep)
            .flag("recovered", recovered)
            .num("settled_acc", level)
            .num("residual_drop", e.pre - level)
            .count("duration_steps", r.step() - e.switchStep)
            .text("resolved_as", how);
    if (at >= 0) {
      ev.count("steps_to_recovery", at - e.switchStep);
    }
    putMetrics(ev);
    String summary =
        Fmt.fmt(
            "Stability gap on %s %s: depth %.3f (min %.3f at +%d steps), level %.3f vs pre-switch %.3f",
            t.name, how, e.depth(), e.minAcc, e.minStep - e.switchStep, level, e.pre);
    t.latch.apply(Verdict.resolve(summary, ev), ctx, r.step(), r.timeMs(), out);
  }

  private void putMetrics(Evidence ev) {
    ContinualMetrics m = snapshot();
    for (Map.Entry<String, Double> x : m.minAcc().entrySet()) {
      ev.num("min_acc/" + x.getKey(), x.getValue());
    }
    ev.finite("wc_acc", m.wcAcc())
        .finite("wf10", m.wf10())
        .finite("wf100", m.wf100())
        .finite("wp10", m.wp10())
        .finite("wp100", m.wp100());
  }

  /**
   * The continual-evaluation metrics of the run so far (allocates: call per eval, not per record).
   */
  /** The continual-evaluation metrics: min-ACC per task, WC-ACC, WF^10/100, WP^10/100. */
  @Override
  public void reportMetrics(TelemetryRecord r, RunContext ctx, MetricSink out) {
    if (tasks.isEmpty()) {
      return;
    }
    ContinualMetrics m = snapshot();
    m.minAcc().forEach((task, v) -> out.metric(name(), "min_acc/" + task, v));
    double[] values = {m.meanMinAcc(), m.wcAcc(), m.wf10(), m.wf100(), m.wp10(), m.wp100()};
    String[] names = {"mean_min_acc", "wc_acc", "wf10", "wf100", "wp10", "wp100"};
    for (int i = 0; i < values.length; i++) {
      if (Double.isFinite(values[i])) {
        out.metric(name(), names[i], values[i]);
      }
    }
  }

  public ContinualMetrics snapshot() {
    Map<String, Double> minAcc = new LinkedHashMap<>();
    double sumMin = 0;
    double sumWf10 = 0;
    double sumWf100 = 0;
    int learned = 0;
    double sumWp10 = 0;
    double sumWp100 = 0;
    int trained = 0;
    double currentAcc = Double.NaN;
    for (TaskTrack t : tasks) {
      if (t.learned && !Float.isNaN(t.minAcc)) {
        minAcc.put(t.name, (double) t.minAcc);
        sumMin += t.minAcc;
        sumWf10 += t.wf10;
        sumWf100 += t.wf100;
        learned++;
      }
      if (t.trained) {
        sumWp10 += t.wp10;
        sumWp100 += t.wp100;
        trained++;
      }
      if (t.name.equals(currentTask)) {
        currentAcc = t.last;
      }
    }
    double meanMin = learned == 0 ? Double.NaN : sumMin / learned;
    double k = learned + 1;
    double wc = learned == 0 ? currentAcc : currentAcc / k + (1 - 1 / k) * meanMin;
    return new ContinualMetrics(
        currentTask,
        currentAcc,
        minAcc,
        meanMin,
        wc,
        learned == 0 ? Double.NaN : sumWf10 / learned,
        learned == 0 ? Double.NaN : sumWf100 / learned,
        trained == 0 ? Double.NaN : sumWp10 / trained,
        trained == 0 ? Double.NaN : sumWp100 / trained);
  }

  @Override
  public void onRunEnd(TelemetryRecord r, RunContext ctx, AlertSink out) {
    for (TaskTrack t : tasks) {
      if (t.episode.open) {
        resolve(t, r, "run ended", false, ctx, out);
      }
    }
  }

  @Override
  public void writeState(DataOutput out) throws IOException {
    RunContext.writeNullable(out, currentTask);
    out.writeByte(tasks.size());
    for (TaskTrack t : tasks) {
      t.write(out);
    }
  }

  @Override
  public void readState(DataInput in, int version) throws IOException {
    currentTask = RunContext.readNullable(in);
    int n = in.readUnsignedByte();
    tasks.clear();
    for (int i = 0; i < n; i++) {
      tasks.add(TaskTrack.read(in));
    }
  }
}
