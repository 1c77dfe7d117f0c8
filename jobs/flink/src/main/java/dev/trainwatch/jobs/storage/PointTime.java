package dev.trainwatch.jobs.storage;

/**
 * The timestamp rule that makes every stored point idempotent: the same record always maps to the
 * same nanosecond, so a replay after a failure overwrites (same series + timestamp) instead of
 * duplicating.
 *
 * <ul>
 *   <li>With a wall clock ({@code time_ms >= 0}): {@code time_ms * 1e6 + (step mod 1e6)} ns. The
 *       step in the sub-millisecond digits keeps two steps that ended in the same millisecond
 *       apart, yet the point still sorts and plots at its real wall-clock millisecond.
 *   <li>Without one: {@code (STEP_EPOCH_MS + step) * 1e6} ns, i.e. one millisecond per step after
 *       2000-01-01T00:00:00Z, so step-only runs are still ordered and deterministic.
 * </ul>
 */
public final class PointTime {

  /** 2000-01-01T00:00:00Z: the origin of step-only runs (one ms per step). */
  public static final long STEP_EPOCH_MS = 946_684_800_000L;

  private static final long NANOS_PER_MS = 1_000_000L;

  private PointTime() {}

  /**
   * Nanosecond timestamp of the point of a record at {@code step} with wall clock {@code timeMs}
   * (or -1).
   */
  public static long nanos(long timeMs, long step) {
    if (timeMs >= 0) {
      return timeMs * NANOS_PER_MS + Math.floorMod(step, NANOS_PER_MS);
    }
    return (STEP_EPOCH_MS + step) * NANOS_PER_MS;
  }
}
