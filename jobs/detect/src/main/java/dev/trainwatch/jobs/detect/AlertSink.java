package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.AlertEvent;

/** Where detectors put the alert state changes they decide on. */
@FunctionalInterface
public interface AlertSink {
  void emit(AlertEvent event);
}
