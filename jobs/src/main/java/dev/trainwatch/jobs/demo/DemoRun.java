package dev.trainwatch.jobs.demo;

import dev.trainwatch.wire.TelemetryRecord;
import java.util.Iterator;

/**
 * A training run of the demo that trains a real model in-process, one optimizer step per
 * {@link #next()}, and returns that step's telemetry.
 *
 * <p>Guarantees: exactly {@link #steps()} records with steps {@code 0..steps()-1}; the first
 * carries {@code event=run_start} and the run's tags ({@code dtype}, {@code model},
 * {@code optimizer}), the last {@code event=run_end}; the same seed gives equal records when
 * the clock is fixed. Training happens lazily inside {@code next()}, so a caller paces the
 * run simply by how fast it pulls.
 *
 * <pre>{@code
 * for (DemoRun run : DemoScenario.standard(7, InstantSource.system()).runs()) {
 *   while (run.hasNext()) publish(run.next());
 * }
 * }</pre>
 */
public interface DemoRun extends Iterator<TelemetryRecord> {

  /** The {@code run} field of every record. */
  String run();

  /** What the run is built to show, as a {@code labels.json} kind: {@code healthy},
   * {@code softmax_collapse}, {@code divergence}, {@code stability_gap}. */
  String kind();

  /** Number of records (optimizer steps) the run produces. */
  int steps();
}
