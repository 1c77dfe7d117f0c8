package dev.trainwatch.jobs.storage;

import java.util.List;

/** Sends one batch of line-protocol points; never throws, the outcome says what happened. */
public interface BatchWriter extends AutoCloseable {

  WriteOutcome write(List<String> lines);

  @Override
  default void close() {}
}
