package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.config.Receiver;
import dev.trainwatch.alerts.dispatch.Flush;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.model.AlertLinks;
import dev.trainwatch.alerts.nflog.NotificationLog;
import dev.trainwatch.wire.DeadLetter;
import java.util.Map;

/**
 * The notification pipeline of one flush, Alertmanager's stages composed in sequence: {@link
 * SelectStage} (which alerts this receiver gets) -> {@link DedupStage} (skip if the notification
 * log says nothing changed and the repeat interval has not passed) -> {@link SendStage} (send
 * through the {@link RetryStage}) -> {@link RecordStage} (write the notification log only after the
 * send succeeded; a permanent failure goes to the dead-letter topic and is recorded as
 * dead-lettered). Silences and inhibition were applied by the dispatcher (mute), group_wait and
 * group_interval by its aggregation groups (wait). Forward flushes skip dedup and record: every
 * change goes out once.
 *
 * <pre>{@code
 * Outcome o = pipeline.run(flush); // DELIVERED, DEDUPLICATED or DEAD_LETTERED
 * }</pre>
 */
public final class NotificationPipeline {

  /** Publishes a dead letter and returns once the broker acknowledged it. */
  public interface DeadLetters {
    void publish(DeadLetter d) throws Exception;
  }

  /** How a flush ended. */
  public enum Outcome {
    DELIVERED,
    DEDUPLICATED,
    DEAD_LETTERED
  }

  private final Map<String, Receiver> receivers;
  private final Stage stages;

  public NotificationPipeline(
      Map<String, Receiver> receivers,
      Map<String, Notifier> notifiers,
      NotificationLog nflog,
      RetryStage retry,
      DeadLetters deadLetters,
      AlertsMetrics metrics,
      String externalUrl,
      AlertLinks links) {
    this.receivers = receivers;
    this.stages =
        Stage.sequence(
            new SelectStage(nflog),
            new DedupStage(nflog, metrics),
            new SendStage(notifiers, retry, externalUrl, links),
            new RecordStage(nflog, notifiers, deadLetters, metrics));
  }

  /** Runs the stages; throws (leaving the log untouched) if the dead letter cannot be written. */
  public Outcome run(Flush f) throws Exception {
    return stages.run(Delivery.of(f, receivers.get(f.route().receiver())));
  }
}
