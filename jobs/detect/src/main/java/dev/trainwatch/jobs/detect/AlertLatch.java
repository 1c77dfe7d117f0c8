package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Severity;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Map;

/**
 * The lifecycle of one alert identity (run, family, detector, affected task): not firing, firing as
 * warning, firing as critical. Emits an event only on a change (fire, escalate, resolve), so a
 * condition that holds for a thousand steps produces one alert, not a thousand. A critical never
 * downgrades to a warning while it fires: it resolves instead.
 */
public final class AlertLatch {

  private final Family family;
  private final String detector;
  private final String affectedTask;
  private Severity firing; // null while not firing
  private long firedAt = -1;

  public AlertLatch(Family family, String detector) {
    this(family, detector, null);
  }

  public AlertLatch(Family family, String detector, String affectedTask) {
    this.family = family;
    this.detector = detector;
    this.affectedTask = affectedTask;
  }

  public boolean isFiring() {
    return firing != null;
  }

  public Severity severity() {
    return firing;
  }

  public long firedAt() {
    return firedAt;
  }

  /**
   * Applies a rule's verdict for the record at {@code step}: fires, escalates or resolves, emitting
   * only on a change. Returns true if an event was emitted.
   */
  public boolean apply(Verdict v, RunContext ctx, long step, long timeMs, AlertSink out) {
    if (v instanceof Verdict.Fire f) {
      return raise(
          f.severity(), ctx, step, timeMs, f.summary(), f.remedy(), f.evidence().map(), out);
    }
    if (v instanceof Verdict.Resolve r) {
      return resolve(ctx, step, timeMs, r.summary(), r.evidence().map(), out);
    }
    return false;
  }

  /**
   * Raises the alert at {@code severity}; emits when it was not firing or is escalated. Returns
   * true if an event was emitted.
   */
  public boolean raise(
      Severity severity,
      RunContext ctx,
      long step,
      long timeMs,
      String summary,
      String remedy,
      Map<String, Object> evidence,
      AlertSink out) {
    if (firing == Severity.CRITICAL || firing == severity) {
      return false;
    }
    if (firing == null) {
      firedAt = step;
    }
    firing = severity;
    out.emit(
        AlertEvent.firing(
            ctx.run(),
            family,
            detector,
            severity,
            step,
            timeMs,
            summary,
            remedy,
            evidence,
            affectedTask));
    return true;
  }

  /** Resolves the alert if it is firing; returns true if an event was emitted. */
  public boolean resolve(
      RunContext ctx,
      long step,
      long timeMs,
      String summary,
      Map<String, Object> evidence,
      AlertSink out) {
    if (firing == null) {
      return false;
    }
    AlertEvent fired =
        AlertEvent.firing(
            ctx.run(), family, detector, firing, firedAt, -1, summary, null, null, affectedTask);
    out.emit(fired.resolve(step, timeMs, summary, evidence));
    firing = null;
    firedAt = -1;
    return true;
  }

  public void write(DataOutput out) throws IOException {
    out.writeByte(firing == null ? 0 : firing.ordinal() + 1);
    out.writeLong(firedAt);
  }

  public void read(DataInput in) throws IOException {
    int s = in.readByte();
    firing = s == 0 ? null : Severity.values()[s - 1];
    firedAt = in.readLong();
  }
}
