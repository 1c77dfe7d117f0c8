package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.dispatch.Flush;
import dev.trainwatch.alerts.model.AlertLinks;
import java.util.Map;

/**
 * Builds the notification of a delivery and sends it to the receiver's notifier through the {@link
 * RetryStage} (backoff until delivered, permanent, or out of attempts or time); the result is
 * passed on for {@link RecordStage}.
 */
public record SendStage(
    Map<String, Notifier> notifiers, RetryStage retry, String externalUrl, AlertLinks links)
    implements Stage {

  @Override
  public Step exec(Delivery d) throws InterruptedException {
    Flush f = d.flush();
    String receiver = d.receiver().name();
    Notification n =
        new Notification(
            f.groupKey(), receiver, f.groupLabels(), d.alerts(), externalUrl, links, f.now());
    return Stage.next(d.sent(n, retry.run(notifiers.get(receiver), n)));
  }
}
