package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.Evidence;
import dev.trainwatch.jobs.detect.Hysteresis;
import dev.trainwatch.jobs.detect.LatchedDetector;
import dev.trainwatch.jobs.detect.RunContext;
import dev.trainwatch.jobs.detect.Setting;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.jobs.detect.SettingsDef;
import dev.trainwatch.jobs.detect.Verdict;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * NaN or infinity in any metric: an immediate critical alert. A non-finite loss or gradient means
 * the weights are (or are about to be) poisoned; nothing the run does afterwards can be trusted.
 * Resolves after {@code resolve_after} consecutive all-finite records.
 */
public final class NonFiniteDetector extends LatchedDetector {

  public static final String NAME = "non_finite";

  /** The declared settings (docs/detectors.md). */
  public static final SettingsDef SETTINGS = new SettingsDef("instability.non_finite.");

  public static final Setting<Integer> RESOLVE_AFTER =
      SETTINGS.integer(
          "resolve_after",
          50,
          Setting.atLeast(1),
          "NaN/Inf in any metric fires critical at once; it resolves after this many consecutive all-finite records");

  /**
   * @param resolveAfter consecutive all-finite records before the alert resolves (50: a
   *     skipped-step loop in mixed precision recovers within a few steps, real poisoning does not)
   */
  public record Config(int resolveAfter) {
    public static Config from(Settings s) {
      return new Config(s.get(RESOLVE_AFTER));
    }
  }

  /** All-finite records in a row while firing (only the release side counts). */
  private final Hysteresis finite = new Hysteresis();

  public NonFiniteDetector() {
    // state format 2: a Hysteresis (held, calm) where format 1 had the calm count alone
    super(Family.INSTABILITY, NAME, 2, 1);
  }

  @Override
  protected Verdict judge(TelemetryRecord r, RunContext ctx) {
    Metrics m = r.metrics();
    int bad = -1;
    for (int i = 0; i < m.size(); i++) {
      if (!Double.isFinite(m.value(i))) {
        bad = i;
        break;
      }
    }
    if (bad >= 0) {
      finite.unsettle();
      if (firing()) {
        return Verdict.HOLD;
      }
      return Verdict.critical(
          "non-finite " + m.name(bad) + " = " + m.value(bad) + " at step " + r.step(),
          Remedies.withRollback(Remedies.NON_FINITE, ctx),
          Evidence.of()
              .text("metric", m.name(bad))
              .num("value", m.value(bad))
              .num("loss", m.get(MetricNames.LOSS))
              .num("lr", ctx.lr()));
    }
    if (firing()
        && m.size() > 0
        && finite.release(true, config(ctx, Config.class, Config::from).resolveAfter())) {
      int records = finite.calm();
      finite.reset();
      return Verdict.resolve(
          "all metrics finite for " + records + " records",
          Evidence.of().count("finite_records", records));
    }
    return Verdict.HOLD;
  }

  @Override
  protected void writeRuleState(DataOutput out) throws IOException {
    finite.write(out);
  }

  @Override
  protected void readRuleState(DataInput in, int version) throws IOException {
    finite.read(in, version == 1);
  }
}
