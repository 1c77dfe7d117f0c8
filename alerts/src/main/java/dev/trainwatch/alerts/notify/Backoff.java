package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.config.AlertsConfig.Retry;
import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with jitter: attempt {@code n} (from 1) waits {@code min(max, initial *
 * multiplier^(n-1))}, scaled by a random factor in {@code [1 - jitter, 1 + jitter]} so many groups
 * failing together do not retry in lockstep.
 */
public record Backoff(Retry retry, DoubleSupplier random) {

  public Duration delay(int attempt) {
    double base = retry.initialBackoff().toMillis() * Math.pow(retry.multiplier(), attempt - 1);
    double capped = Math.min(base, retry.maxBackoff().toMillis());
    double factor = 1 + retry.jitter() * (2 * random.getAsDouble() - 1);
    return Duration.ofMillis(Math.max(0, Math.round(capped * factor)));
  }
}
