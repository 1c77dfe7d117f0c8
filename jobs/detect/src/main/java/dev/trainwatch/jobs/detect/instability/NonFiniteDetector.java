package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.AlertLatch;
import dev.trainwatch.jobs.detect.AlertSink;
import dev.trainwatch.jobs.detect.Detector;
import dev.trainwatch.jobs.detect.RunContext;
import dev.trainwatch.jobs.detect.Setting;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.jobs.detect.SettingsDef;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * NaN or infinity in any metric: an immediate critical alert. A non-finite loss or gradient means
 * the weights are (or are about to be) poisoned; nothing the run does afterwards can be trusted.
 * Resolves after {@code resolve_after} consecutive all-finite records.
 */
public final class NonFiniteDetector implements Detector {

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

  private final AlertLatch latch = new AlertLatch(Family.INSTABILITY, NAME);
  private int finiteRun;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void observe(TelemetryRecord r, RunContext ctx, AlertSink out) {
    Metrics m = r.metrics();
    int bad = -1;
    for (int i = 0; i < m.size(); i++) {
      if (!Double.isFinite(m.value(i))) {
        bad = i;
        break;
      }
    }
    if (bad >= 0) {
      finiteRun = 0;
      if (!latch.isFiring()) {
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("metric", m.name(bad));
        ev.put("value", m.value(bad));
        ev.put("loss", m.get(MetricNames.LOSS));
        ev.put("lr", ctx.lr());
        latch.raise(
            Severity.CRITICAL,
            ctx,
            r.step(),
            r.timeMs(),
            "non-finite " + m.name(bad) + " = " + m.value(bad) + " at step " + r.step(),
            Remedies.withRollback(Remedies.NON_FINITE, ctx),
            ev,
            out);
      }
      return;
    }
    if (latch.isFiring()
        && m.size() > 0
        && ++finiteRun >= ctx.config(Config.class, Config::from).resolveAfter()) {
      Map<String, Object> ev = new LinkedHashMap<>();
      ev.put("finite_records", finiteRun);
      latch.resolve(
          ctx, r.step(), r.timeMs(), "all metrics finite for " + finiteRun + " records", ev, out);
    }
  }

  @Override
  public void writeState(DataOutput out) throws IOException {
    latch.write(out);
    out.writeInt(finiteRun);
  }

  @Override
  public void readState(DataInput in) throws IOException {
    latch.read(in);
    finiteRun = in.readInt();
  }
}
