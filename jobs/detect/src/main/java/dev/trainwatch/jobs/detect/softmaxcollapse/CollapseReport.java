package dev.trainwatch.jobs.detect.softmaxcollapse;

import static dev.trainwatch.jobs.detect.Fmt.fmt;

import dev.trainwatch.jobs.detect.Evidence;
import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.TelemetryRecord;
import java.util.Locale;

/**
 * What a softmax-absorption alert says: its summary (absorbed share, margin against the dtype's
 * limit, ETA) and its evidence. Numbers in {@link Locale#ROOT}; margins and fractions rounded to 4
 * decimals.
 */
final class CollapseReport {

  private CollapseReport() {}

  static String summary(Severity sev, Dtype dt, MarginOutlook.View mv, AbsorbedFraction absorbed) {
    String margin =
        mv == null
            ? ""
            : fmt(
                "; label margin (%s) %.2f nats, %.2f below the %s limit %.2f, %s",
                mv.source(), mv.level(), mv.gap(), dt.wire(), dt.absorptionLimit(), etaText(mv));
    if (sev == Severity.CRITICAL) {
      return fmt(
          "softmax collapse under way: %.0f%% of samples absorbed"
              + " (p(label) == 1.0 exactly in %s, zero loss and gradient)%s",
          100 * nz(absorbed.value()), dt.wire(), margin);
    }
    if (absorbed.warnRun() > 0 && absorbed.value() > 0) {
      return fmt(
          "softmax absorption starting: %.2f%% of samples have"
              + " p(label) == 1.0 exactly in %s%s",
          100 * absorbed.value(), dt.wire(), margin);
    }
    return "softmax collapse precursor: logits growing towards absorption" + margin;
  }

  static String receded(Dtype dt, AbsorbedFraction absorbed, long clearSteps) {
    return fmt(
        "softmax absorption receded: absorbed fraction %.4f, margins no longer approaching"
            + " the %s limit for %d steps",
        nz(absorbed.value()), dt.wire(), clearSteps);
  }

  private static String etaText(MarginOutlook.View mv) {
    if (mv.gap() <= 0) {
      return "already past it";
    }
    return mv.slope() > 0 && Double.isFinite(mv.eta())
        ? fmt("rising %.4f/step, ETA ~%d steps", mv.slope(), Math.round(mv.eta()))
        : "not rising";
  }

  static Evidence evidence(
      TelemetryRecord r,
      SoftmaxAbsorptionDetector.Config c,
      Dtype dt,
      MarginOutlook.View mv,
      AbsorbedFraction absorbed,
      Trend paramNorm,
      String trigger) {
    Evidence ev =
        Evidence.of()
            .text("trigger", trigger)
            .text("dtype", dt.wire())
            .num("limit_nats", round4(dt.absorptionLimit()));
    if (Double.isFinite(absorbed.value())) {
      ev.num("absorbed_frac", round4(absorbed.value()))
          .text("absorbed_source", absorbed.fromRows() ? "sampled_rows" : "summary")
          .count("absorbed_consecutive", absorbed.warnRun());
    }
    ev.num("absorbed_warn", c.absorbedWarn()).num("absorbed_critical", c.absorbedCritical());
    if (mv != null) {
      boolean summaryLine = mv.source().equals("margin_mean");
      ev.text("margin_source", mv.source())
          .num("margin", round4(mv.level()))
          .num("margin_slope_per_step", mv.slope())
          .num("margin_gap_nats", round4(mv.gap()))
          .num(
              "near_nats",
              round4(
                  MarginOutlook.nearFor(summaryLine ? c.summaryNearNats() : c.rowsNearNats(), dt)))
          .num("horizon_steps", summaryLine ? c.summaryHorizonSteps() : c.rowsHorizonSteps());
      if (Double.isFinite(mv.eta())) {
        ev.count("eta_steps", Math.round(mv.eta()));
      }
    }
    if (paramNorm != null) {
      ev.num("param_norm", round4(paramNorm.level()))
          .num("param_norm_slope_per_step", paramNorm.slope());
    }
    return ev.finite("grad_weight_cos", r.metrics().get(MetricNames.GRAD_WEIGHT_COS))
        .finite("logits_max_abs", r.metrics().get(MetricNames.LOGITS_MAX_ABS));
  }

  private static double round4(double v) {
    return Double.isFinite(v) ? Math.round(v * 1e4) / 1e4 : v;
  }

  private static double nz(double v) {
    return Double.isFinite(v) ? v : 0.0;
  }
}
