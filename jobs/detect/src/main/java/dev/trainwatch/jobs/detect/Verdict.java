package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.Severity;

/**
 * What a rule concludes from one record, for its {@link AlertLatch} to apply: fire (or escalate),
 * resolve, or nothing new. The rule decides, the latch emits, and only on a change, so a rule never
 * tracks whether its alert was already sent. Most records change nothing: that verdict is the
 * constant {@link #HOLD}, so the hot path allocates nothing; a {@link Fire} or {@link Resolve} is
 * made only when the alert changes (a few times per run).
 *
 * <pre>{@code
 * protected Verdict judge(TelemetryRecord r, RunContext ctx) {
 *   if (!firing() && hysteresis.fires(x > c.warn(), c.sustain())) {
 *     return Verdict.warning("x is " + Fmt.num(x), REMEDY, Evidence.of().num("x", x));
 *   }
 *   return firing() && hysteresis.resolves(x < c.resolve(), c.sustain())
 *       ? Verdict.resolve("x back below " + c.resolve(), Evidence.of().num("x", x))
 *       : Verdict.HOLD;
 * }
 * }</pre>
 */
public sealed interface Verdict permits Verdict.Hold, Verdict.Fire, Verdict.Resolve {

  /** Nothing changes (the alert stays as it is, firing or not). */
  Verdict HOLD = Hold.HOLD;

  /** The only no-change verdict: an enum constant, never allocated. */
  enum Hold implements Verdict {
    HOLD
  }

  /**
   * Fire at {@code severity}, or escalate a firing warning to critical; ignored while firing at the
   * same severity or critical (a critical never downgrades).
   */
  record Fire(Severity severity, String summary, String remedy, Evidence evidence)
      implements Verdict {}

  /** Resolve the alert if it fires. */
  record Resolve(String summary, Evidence evidence) implements Verdict {}

  static Fire warning(String summary, String remedy, Evidence evidence) {
    return new Fire(Severity.WARNING, summary, remedy, evidence);
  }

  static Fire critical(String summary, String remedy, Evidence evidence) {
    return new Fire(Severity.CRITICAL, summary, remedy, evidence);
  }

  static Fire fire(Severity severity, String summary, String remedy, Evidence evidence) {
    return new Fire(severity, summary, remedy, evidence);
  }

  static Resolve resolve(String summary, Evidence evidence) {
    return new Resolve(summary, evidence);
  }
}
