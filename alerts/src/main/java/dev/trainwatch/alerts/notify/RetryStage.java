package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.config.AlertsConfig.Retry;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.metrics.AlertsMetrics.Counter;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends until {@link DeliveryResult.Delivered} or {@link DeliveryResult.Permanent}, retrying {@link
 * DeliveryResult.Retryable} outcomes with {@link Backoff} until {@code max_attempts} or {@code
 * max_elapsed} is reached; then the last retryable reason is returned as permanent. Interrupting
 * the thread (service shutdown) aborts the wait.
 */
public final class RetryStage {

  /** How to wait between attempts; tests pass a no-op or recording sleeper. */
  public interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  private static final Logger LOG = LoggerFactory.getLogger(RetryStage.class);
  private final Retry retry;
  private final Backoff backoff;
  private final InstantSource clock;
  private final Sleeper sleeper;
  private final AlertsMetrics metrics;

  public RetryStage(
      Retry retry, Backoff backoff, InstantSource clock, Sleeper sleeper, AlertsMetrics metrics) {
    this.retry = retry;
    this.backoff = backoff;
    this.clock = clock;
    this.sleeper = sleeper;
    this.metrics = metrics;
  }

  public DeliveryResult run(Notifier notifier, Notification n) throws InterruptedException {
    Instant deadline = clock.instant().plus(retry.maxElapsed());
    String lastReason = null;
    for (int attempt = 1; ; attempt++) {
      DeliveryResult r = notifier.send(n);
      if (!(r instanceof DeliveryResult.Retryable retryable)) {
        return r;
      }
      lastReason = retryable.reason();
      Duration wait = backoff.delay(attempt);
      if (attempt >= retry.maxAttempts() || clock.instant().plus(wait).isAfter(deadline)) {
        return new DeliveryResult.Permanent(
            "gave up after " + attempt + " attempts: " + lastReason);
      }
      if (attempt == 1) {
        // one line per failing notification, not one per attempt: the metric counts attempts
        LOG.warn("receiver {} group {}: {}; retrying", n.receiver(), n.groupKey(), lastReason);
      }
      metrics.inc(Counter.RETRIED, n.receiver());
      sleeper.sleep(wait);
    }
  }
}
