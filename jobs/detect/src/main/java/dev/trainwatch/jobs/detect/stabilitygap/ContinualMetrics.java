package dev.trainwatch.jobs.detect.stabilitygap;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The continual-evaluation metrics of one run so far (De Lange et al., ICLR 2023), for storage next
 * to the raw telemetry. Accuracies are fractions in [0, 1]; NaN where a metric is not defined yet
 * (no task learned yet, or no evaluation of the current task).
 *
 * <pre>{@code
 * ContinualMetrics m = detector.snapshot();
 * store.write(run, step, "cl/wc_acc", m.wcAcc());
 * }</pre>
 *
 * @param currentTask the task being trained, or null before the first task
 * @param currentAcc latest accuracy on the current task (A_k)
 * @param minAcc min-ACC_j per learned task j: lowest accuracy after j was learned
 * @param meanMinAcc mean of {@code minAcc} over the learned tasks
 * @param wcAcc WC-ACC = (1/k) A_k + (1 - 1/k) meanMinAcc, k = learned tasks + 1
 * @param wf10 WF^10: mean over learned tasks of the largest drop inside 10 evaluations
 * @param wf100 WF^100: the same inside 100 evaluations
 * @param wp10 WP^10: mean over trained tasks of the largest rise inside 10 evaluations taken while
 *     the task was trained
 * @param wp100 WP^100: the same inside 100 evaluations
 */
public record ContinualMetrics(
    String currentTask,
    double currentAcc,
    Map<String, Double> minAcc,
    double meanMinAcc,
    double wcAcc,
    double wf10,
    double wf100,
    double wp10,
    double wp100) {

  public ContinualMetrics {
    minAcc = Collections.unmodifiableMap(new LinkedHashMap<>(minAcc)); // keeps task order
  }
}
