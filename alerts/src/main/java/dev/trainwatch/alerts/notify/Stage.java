package dev.trainwatch.alerts.notify;

import java.util.List;

/**
 * One step of the notification pipeline, after Alertmanager's {@code notify.Stage}: it passes the
 * delivery on (possibly narrowed or with a result added) or ends it with an outcome. Stages are
 * composed in sequence with {@link #sequence}; each one is small enough to test alone.
 *
 * <pre>{@code
 * Stage routed = Stage.sequence(select, dedup, send, record);
 * NotificationPipeline.Outcome o = routed.run(Delivery.of(flush, receiver));
 * }</pre>
 */
@FunctionalInterface
public interface Stage {

  /** What a stage decided: go on with a delivery, or stop with an outcome. */
  sealed interface Step {
    record Next(Delivery delivery) implements Step {}

    record Done(NotificationPipeline.Outcome outcome) implements Step {}
  }

  Step exec(Delivery d) throws Exception;

  static Step next(Delivery d) {
    return new Step.Next(d);
  }

  static Step done(NotificationPipeline.Outcome o) {
    return new Step.Done(o);
  }

  /** Runs {@code stages} in order until one is done; the last one must be. */
  static Stage sequence(Stage... stages) {
    List<Stage> all = List.of(stages);
    return d -> {
      Step step = next(d);
      for (Stage s : all) {
        step = s.exec(((Step.Next) step).delivery());
        if (step instanceof Step.Done) {
          return step;
        }
      }
      throw new IllegalStateException("no stage ended the delivery to " + d.receiver().name());
    };
  }

  /** Runs the stage and returns its outcome; it must end the delivery. */
  default NotificationPipeline.Outcome run(Delivery d) throws Exception {
    if (exec(d) instanceof Step.Done done) {
      return done.outcome();
    }
    throw new IllegalStateException("no stage ended the delivery to " + d.receiver().name());
  }
}
