package dev.trainwatch.wire;

/** What parsing one input line gives: a valid record, or the reason it was rejected. */
public sealed interface ParseResult {

  /** A record that passed every check of FORMAT.md. */
  record Parsed(TelemetryRecord record) implements ParseResult {}

  /**
   * A line that failed validation. {@code reason} names the field and what was wrong (e.g. {@code
   * "field 'step': expected an integer >= 0, got -3"}); {@code run} is the run the line claimed
   * when it could be read, else null.
   */
  record Rejected(String reason, String run) implements ParseResult {}
}
