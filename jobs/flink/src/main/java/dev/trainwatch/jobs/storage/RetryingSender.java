package dev.trainwatch.jobs.storage;

import java.io.IOException;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one batch with bounded retries: retryable outcomes are retried with exponential backoff
 * (100 ms doubling to 5 s) until the deadline, then {@link IOException}; a fatal outcome throws at
 * once; rejected points are dropped, counted and logged (a repeated reason once). Why drop rejected
 * batches: a field type conflict is a property of the data, and failing the task would replay the
 * same batch into the same error forever.
 */
final class RetryingSender {

  interface Sleeper {
    void sleep(long ms) throws InterruptedException;
  }

  private static final Logger LOG = LoggerFactory.getLogger(RetryingSender.class);
  private static final long FIRST_BACKOFF_MS = 100;
  private static final long MAX_BACKOFF_MS = 5_000;

  private final BatchWriter writer;
  private final long deadlineMs;
  private final Clock clock;
  private final Sleeper sleeper;
  private String lastLoggedReason;
  private long retries;
  private long rejectedPoints;

  RetryingSender(BatchWriter writer, long deadlineMs, Clock clock, Sleeper sleeper) {
    this.writer = writer;
    this.deadlineMs = deadlineMs;
    this.clock = clock;
    this.sleeper = sleeper;
  }

  /** Returns once the batch is stored or rejected; throws when it cannot be stored in time. */
  WriteOutcome send(List<String> batch) throws IOException, InterruptedException {
    long giveUpAt = clock.millis() + deadlineMs;
    long backoff = FIRST_BACKOFF_MS;
    while (true) {
      WriteOutcome o = writer.write(batch);
      if (o instanceof WriteOutcome.Delivered) {
        return o;
      }
      if (o instanceof WriteOutcome.Rejected r) {
        rejectedPoints += batch.size();
        logOnce(
            "InfluxDB rejected a batch of " + batch.size() + " points (dropped): " + r.reason());
        return o;
      }
      if (o instanceof WriteOutcome.Fatal f) {
        throw new IOException(
            "InfluxDB write failed, check influx.url, influx.database and the "
                + "TRAINWATCH_INFLUX_USERNAME/PASSWORD credentials: "
                + f.reason());
      }
      String reason = ((WriteOutcome.Retryable) o).reason();
      long now = clock.millis();
      if (now + backoff > giveUpAt) {
        throw new IOException(
            "InfluxDB write still failing after "
                + deadlineMs
                + " ms (influx.retry-deadline.ms): "
                + reason);
      }
      retries++;
      logOnce("InfluxDB write failed, retrying with backoff: " + reason);
      sleeper.sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  private void logOnce(String msg) {
    if (!msg.equals(lastLoggedReason)) {
      LOG.warn(msg);
      lastLoggedReason = msg;
    }
  }

  long retries() {
    return retries;
  }

  long rejectedPoints() {
    return rejectedPoints;
  }
}
