package dev.trainwatch.jobs.detect;

/** Receives a detector's internal numbers (baselines, margins, continual metrics) for storage. */
@FunctionalInterface
public interface MetricSink {
  MetricSink NONE = (detector, name, value) -> {};

  void metric(String detector, String name, double value);
}
