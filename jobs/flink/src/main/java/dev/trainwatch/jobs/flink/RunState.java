package dev.trainwatch.jobs.flink;

import dev.trainwatch.jobs.detect.RunMonitor;

/**
 * Everything the job keeps for one run, in one keyed-state entry: the run's detectors and the time
 * its idle timer is armed for. One entry means one state lookup per record; the timer's time in a
 * state of its own cost a second lookup and a second update on every record.
 */
public final class RunState {

  final RunMonitor monitor;

  /**
   * Processing time the run's one timer fires at (stall check or idle cut-off); 0 when none is
   * armed.
   */
  long idleTimerAt;

  /** Processing time the last new step arrived at (the idle cut-off counts from here). */
  long lastSeenMs;

  RunState(RunMonitor monitor, long idleTimerAt) {
    this(monitor, idleTimerAt, 0);
  }

  RunState(RunMonitor monitor, long idleTimerAt, long lastSeenMs) {
    this.monitor = monitor;
    this.idleTimerAt = idleTimerAt;
    this.lastSeenMs = lastSeenMs;
  }
}
