package dev.trainwatch.jobs.storage;

/** What one write request gave, classified in one place ({@link InfluxBatchWriter#write}). */
public sealed interface WriteOutcome {

  /** Stored (HTTP 204). */
  record Delivered() implements WriteOutcome {}

  /** Worth retrying: I/O failure, timeout, 5xx, server overloaded. */
  record Retryable(String reason) implements WriteOutcome {}

  /**
   * The server rejected the points themselves (unparsable, field type conflict, beyond retention):
   * retrying cannot help, the batch is dropped and counted, the job goes on.
   */
  record Rejected(String reason) implements WriteOutcome {}

  /** Configuration is wrong (authorization, unknown database): the task must fail. */
  record Fatal(String reason) implements WriteOutcome {}
}
