package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.AlertLatch;
import dev.trainwatch.jobs.detect.AlertSink;
import dev.trainwatch.jobs.detect.ConfiguredDetector;
import dev.trainwatch.jobs.detect.Evidence;
import dev.trainwatch.jobs.detect.Fmt;
import dev.trainwatch.jobs.detect.Hysteresis;
import dev.trainwatch.jobs.detect.LrPhase;
import dev.trainwatch.jobs.detect.RunContext;
import dev.trainwatch.jobs.detect.Setting;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.jobs.detect.SettingsDef;
import dev.trainwatch.jobs.detect.Verdict;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Locale;

/**
 * Sudden divergence: an LR raised mid-run, SGD without clipping, a too-high peak. The loss gives
 * almost no warning (it explodes within a few steps), so this detector warns on what is visible
 * before: the LR jumping to a new high ({@link LrPhase}: at least 2x in one report, 1.25x above
 * anything the run trained at, after a flat or decaying stretch), the update ratio jumping far
 * above its recent median without an LR restart to explain it, and an LR rise that takes lr x (the
 * last measured sharpness) past the edge of stability. It escalates to critical when the loss
 * explodes ({@code explode_ratio} x its median on {@code explode_obs} consecutive records, or a
 * non-finite loss after a warning), and resolves once the loss has stayed in its old band for
 * {@code resolve_after} records (the run took the change).
 */
public final class SuddenDivergenceDetector extends ConfiguredDetector implements LrPhase.Reader {

  // Not a LatchedDetector: one record can warn (a precursor) and escalate (the loss is already
  // non-finite) or even resolve, two events where a rule returns one verdict. It applies each
  // verdict to its latch as it reaches it.

  public static final String NAME = "sudden_divergence";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS = new SettingsDef("instability.sudden_divergence.");

  public static final Setting<Double> UPDATE_JUMP =
      SETTINGS.number(
          "update_jump",
          10,
          Setting.above(0),
          "warning when `update_ratio` reaches this multiple of its median over the last 64 records without an LR restart (the public LR jumps move it 20x on the step of the jump; healthy runs outside restarts and task switches stay within 3.6x)...");
  public static final Setting<Double> MIN_UPDATE_RATIO =
      SETTINGS.number(
          "min_update_ratio",
          0.01,
          Setting.above(0),
          "...and at least this absolute ratio (a step rewriting 1% of the weights; healthy runs sit near 1e-3)");
  public static final Setting<Double> EXPLODE_RATIO =
      SETTINGS.number(
          "explode_ratio",
          4,
          Setting.above(0),
          "critical when the loss is at least this multiple of its pre-event median (bad-batch spikes are 1.5-2x)...");
  public static final Setting<Double> EXPLODE_Z =
      SETTINGS.number(
          "explode_z",
          6,
          Setting.above(0),
          "...and this many robust sigmas of log-loss above it (a loss of 0.01 with batch-2 noise goes to 0.08 and back routinely)...");
  public static final Setting<Integer> EXPLODE_OBS =
      SETTINGS.integer(
          "explode_obs",
          2,
          Setting.atLeast(1),
          "...on this many consecutive records, each no lower than the last (a spike comes back, an explosion keeps climbing); a non-finite loss after a warning confirms at once");
  public static final Setting<Integer> MIN_STEPS =
      SETTINGS.integer(
          "min_steps",
          50,
          Setting.atLeast(0),
          "records before the loss and update baselines are trusted (50, not 100: a warmup to a too-high peak blows up during or right after the ramp, while the spike detectors are quiet; the 64-record windows also need 32 values first)");
  public static final Setting<Integer> RESOLVE_AFTER =
      SETTINGS.integer(
          "resolve_after",
          50,
          Setting.atLeast(1),
          "records with the loss within 1.5x of its median before the alert resolves (the run took the change)");
  public static final Setting<Double> MIN_BASELINE_LOSS =
      SETTINGS.number(
          "min_baseline_loss",
          0.01,
          Setting.atLeast(0),
          "median loss (nats) below which a loss explosion is not judged (0.01, as for loss and gradient spikes): a run that has memorised its data sits at 1e-7, and Adam's slingshots from there (Thilak et al. 2022) are the softmax-collapse regime, which that family reports");

  /**
   * @param updateJump update_ratio / its median over the last 64 records that is a jump (10: the
   *     public LR jumps move it 20x in the step of the jump; healthy runs outside LR restarts and
   *     task switches stay within 3.6x)
   * @param minUpdateRatio the jump must also reach this absolute update ratio (0.01: a step
   *     rewriting 1% of the weights; healthy runs sit near 1e-3)
   * @param explodeRatio loss / its pre-event median that confirms the blow-up (4; bad-batch spikes
   *     are 1.5-2x)
   * @param explodeZ ...and this many robust sigmas of log-loss above it, so a run with a wide loss
   *     band (small batches, label noise, a loss near 0 where 0.008 -> 0.07 is ordinary) needs a
   *     larger excursion (6, as for loss spikes)
   * @param explodeObs consecutive records at or above {@code explodeRatio}, each no lower than the
   *     last (2: a spike goes back, an explosion keeps climbing)
   * @param minSteps records before the loss and update baselines are trusted (50)
   * @param resolveAfter records with the loss back within 1.5x of its median before resolving (50)
   * @param minBaselineLoss median loss below which explosions are not judged (0.01)
   * @param edgeLimit lr x sharpness above which (S)GD is past the edge of stability (2)
   * @param adaptiveEdgeLimit the same for Adam-family optimizers (38)
   */
  public record Config(
      double updateJump,
      double minUpdateRatio,
      double explodeRatio,
      double explodeZ,
      int explodeObs,
      int minSteps,
      int resolveAfter,
      double edgeLimit,
      double adaptiveEdgeLimit,
      double minBaselineLoss) {
    public static Config from(Settings s) {
      return new Config(
          s.get(UPDATE_JUMP),
          s.get(MIN_UPDATE_RATIO),
          s.get(EXPLODE_RATIO),
          s.get(EXPLODE_Z),
          s.get(EXPLODE_OBS),
          s.get(MIN_STEPS),
          s.get(RESOLVE_AFTER),
          s.get(EdgeOfStabilityDetector.LIMIT),
          s.get(EdgeOfStabilityDetector.ADAPTIVE_LIMIT),
          s.get(MIN_BASELINE_LOSS));
    }
  }

  /** Loss within this multiple of its median counts as back in its old band. */
  static final double BACK_RATIO = 1.5;

  private final AlertLatch latch = new AlertLatch(Family.INSTABILITY, NAME);
  private LrPhase phase = new LrPhase(); // the run's, once hosted (readPhaseOf)
  private final RobustWindow loss = new RobustWindow();
  private final RobustWindow update = new RobustWindow();
  private double sharpness = Double.NaN;
  private boolean adaptive;
  private double lastExplode = Double.NaN;

  /** Exploding records in a row (held) and records back in the old band in a row (calm). */
  private final Hysteresis explode = new Hysteresis();

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void observe(TelemetryRecord r, RunContext ctx, AlertSink out) {
    Config c = config(ctx, Config.class, Config::from);
    String opt = r.tags().get("optimizer");
    if (opt != null) {
      adaptive = opt.toLowerCase(Locale.ROOT).startsWith("adam");
    }
    double lrBefore = phase.lrBefore();
    boolean reset = phase.restarted();
    if (reset) {
      loss.clear();
      update.clear();
    }
    long step = r.step();
    boolean trusted = !phase.settling(step, c.minSteps(), 0);
    double l = r.metrics().get(MetricNames.LOSS);
    // The baseline exp(median) sorts the window (~1 us, most of this detector's cost). Most
    // records need only its lower bound exp(min): a loss below explodeRatio x exp(min) is below
    // explodeRatio x exp(median) too, so it is no outlier. The median is taken for a possible
    // outlier, a non-finite loss, while firing, and for a warning's evidence (baseline()).
    boolean full = loss.size() >= RobustWindow.CAPACITY / 2;
    double base =
        full && (latch.isFiring() || !(l < c.explodeRatio() * Math.exp(loss.min())))
            ? Math.exp(loss.median())
            : Double.NaN;

    // --- precursors: warnings ---
    if (!latch.isFiring() && trusted) {
      if (phase.jumpedAt(step)) {
        double lr = phase.lr();
        warn(
            r,
            ctx,
            Fmt.fmt(
                "LR raised %s in one step, from %s to %s at step %d, above anything the run"
                    + " trained at: a sudden divergence usually follows within a few steps",
                Fmt.times(lr / phase.jumpFrom()), Fmt.num(phase.jumpFrom()), Fmt.num(lr), step),
            Evidence.of()
                .text("trigger", "lr_jump")
                .finite("lr", lr)
                .finite("lr_before", phase.jumpFrom())
                .finite("lr_factor", lr / phase.jumpFrom())
                .finite("loss", l)
                .finite("baseline_median", baseline(base))
                .finite("lr_times_sharpness", lr * sharpness),
            out);
      } else {
        edgeCrossing(r, ctx, c, lrBefore, l, base, out);
      }
    }
    double s = r.metrics().get(MetricNames.SHARPNESS);
    if (Double.isFinite(s) && s > 0) {
      sharpness = s;
    }
    double u = r.metrics().get(MetricNames.UPDATE_RATIO);
    if (Double.isFinite(u) && u > 0) {
      // a jump over updateJump x the median is one over updateJump x the minimum first: the
      // median (a sort) is only taken then
      boolean jump =
          update.size() >= RobustWindow.CAPACITY / 2
              && u >= c.updateJump() * Math.exp(update.min())
              && u >= c.updateJump() * Math.exp(update.median());
      if (jump && !latch.isFiring() && trusted && !reset) {
        double med = Math.exp(update.median());
        if (u >= c.minUpdateRatio()) {
          warn(
              r,
              ctx,
              Fmt.fmt(
                  "update ratio jumped to %s (%s over the last %d steps) at step %d without"
                      + " an LR restart: each step now rewrites %s of the weights; a blow-up usually follows",
                  Fmt.num(u),
                  Fmt.against(u, med, 0, "the median"),
                  update.size(),
                  step,
                  Fmt.pct(u)),
              Evidence.of()
                  .text("trigger", "update_jump")
                  .finite("update_ratio", u)
                  .finite("baseline_median", med)
                  .finite("ratio", u / med)
                  .finite("threshold_ratio", c.updateJump())
                  .finite("lr", ctx.lr())
                  .finite("loss", l),
              out);
        }
      }
      if (!jump) {
        update.add(Math.log(u));
      }
    }

    // --- confirmation: critical ---
    if (!Double.isFinite(l)) {
      if (latch.isFiring() && latch.severity() != Severity.CRITICAL) {
        latch.apply(
            Verdict.critical(
                Fmt.fmt("blow-up confirmed: the loss is %s at step %d", Double.toString(l), step),
                Remedies.withRollback(Remedies.SUDDEN, ctx),
                Evidence.of()
                    .text("trigger", "non_finite_loss")
                    .text("loss", String.valueOf(l))
                    .finite("lr", ctx.lr())
                    .finite("baseline_median", baseline(base))),
            ctx,
            step,
            r.timeMs(),
            out);
      }
      explode.unsettle(); // not back in the band
      return;
    }
    if (l <= 0) {
      return;
    }
    boolean outlier =
        Double.isFinite(base)
            && l >= c.explodeRatio() * base
            && (Math.log(l) - Math.log(base)) / Math.max(loss.sigma(loss.median()), 1e-6)
                >= c.explodeZ();
    boolean exploding = outlier && trusted && !(l < lastExplode) && base >= c.minBaselineLoss();
    lastExplode = exploding ? l : Double.NaN;
    if (explode.hold(exploding, c.explodeObs()) && latch.severity() != Severity.CRITICAL) {
      latch.apply(
          Verdict.critical(
              Fmt.fmt(
                  "loss exploding: %s at step %d, %s, rising for %d steps",
                  Fmt.num(l), step, Fmt.against(l, base, 0, "its median"), explode.held()),
              Remedies.withRollback(Remedies.SUDDEN, ctx),
              Evidence.of()
                  .text("trigger", "loss_explosion")
                  .finite("loss", l)
                  .finite("baseline_median", base)
                  .finite("ratio", l / base)
                  .finite("threshold_ratio", c.explodeRatio())
                  .finite("lr", ctx.lr())),
          ctx,
          step,
          r.timeMs(),
          out);
    }
    if (latch.isFiring()) {
      base = baseline(base); // a warning of this very record: the calm count below needs it
    }
    if (!outlier) {
      loss.add(Math.log(l)); // only the excursion itself stays out: the band keeps its true width
    }
    if (latch.isFiring()
        && explode.release(Double.isFinite(base) && l <= BACK_RATIO * base, c.resolveAfter())) {
      latch.apply(
          Verdict.resolve(
              Fmt.fmt(
                  "the loss stayed within %sx of its median %s for %d"
                      + " records: the run took the change",
                  Fmt.num(BACK_RATIO), Fmt.num(base), explode.calm()),
              Evidence.of().finite("loss", l).finite("baseline_median", base)),
          ctx,
          step,
          r.timeMs(),
          out);
      explode.unsettle(); // the next episode counts from zero (the explosion streak goes on)
    }
  }

  /** An LR rise that takes lr x (last sharpness) past the edge: warned on the step of the rise. */
  private void edgeCrossing(
      TelemetryRecord r,
      RunContext ctx,
      Config c,
      double lrBefore,
      double l,
      double base,
      AlertSink out) {
    double lr = r.metrics().get(MetricNames.LR);
    if (!Double.isFinite(sharpness)
        || !Double.isFinite(lr)
        || !Double.isFinite(lrBefore)
        || lr <= lrBefore) {
      return;
    }
    double limit = adaptive ? c.adaptiveEdgeLimit() : c.edgeLimit();
    if (lr * sharpness > limit && lrBefore * sharpness <= limit) {
      warn(
          r,
          ctx,
          Fmt.fmt(
              "LR raised from %s to %s at step %d takes lr x sharpness to %s, past the edge of"
                  + " stability %s (largest stable LR for the last measured sharpness: %s)",
              Fmt.num(lrBefore),
              Fmt.num(lr),
              r.step(),
              Fmt.num(lr * sharpness),
              Fmt.num(limit),
              Fmt.num(limit / sharpness)),
          Evidence.of()
              .text("trigger", "edge_crossed")
              .finite("lr", lr)
              .finite("lr_before", lrBefore)
              .finite("sharpness", sharpness)
              .finite("lr_times_sharpness", lr * sharpness)
              .finite("threshold", limit)
              .finite("loss", l)
              .finite("baseline_median", baseline(base)),
          out);
    }
  }

  /**
   * The baseline for an alert's evidence: {@code base} when it was taken, else taken now (the
   * window is unchanged).
   */
  private double baseline(double base) {
    return Double.isNaN(base) && loss.size() >= RobustWindow.CAPACITY / 2
        ? Math.exp(loss.median())
        : base;
  }

  private void warn(TelemetryRecord r, RunContext ctx, String summary, Evidence ev, AlertSink out) {
    explode.unsettle(); // a new warning counts its calm records from zero
    latch.apply(
        Verdict.warning(summary, Remedies.withRollback(Remedies.SUDDEN, ctx), ev),
        ctx,
        r.step(),
        r.timeMs(),
        out);
  }

  /** 2: the LR phase moved to the run's context. */
  @Override
  public int stateVersion() {
    return 2;
  }

  @Override
  public int oldestStateVersion() {
    return 1;
  }

  @Override
  public void readPhaseOf(LrPhase shared) {
    phase = shared;
  }

  @Override
  public void writeState(DataOutput out) throws IOException {
    latch.write(out);
    loss.write(out);
    update.write(out);
    out.writeDouble(sharpness);
    out.writeBoolean(adaptive);
    out.writeDouble(lastExplode);
    explode.write(out); // the layout of the former explodeRun and calm ints
  }

  @Override
  public void readState(DataInput in, int version) throws IOException {
    latch.read(in);
    if (version < 2) {
      phase.read(in); // the run's phase, kept in this frame before it was shared
    }
    loss.read(in);
    update.read(in);
    sharpness = in.readDouble();
    adaptive = in.readBoolean();
    lastExplode = in.readDouble();
    explode.read(in);
  }
}
