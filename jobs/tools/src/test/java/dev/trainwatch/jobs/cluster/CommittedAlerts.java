package dev.trainwatch.jobs.cluster;

import dev.trainwatch.jobs.replay.TopicReader;
import dev.trainwatch.wire.AlertJson;
import java.time.Duration;
import java.util.List;

/**
 * The alerts a job committed to its topic, in a canonical form (parsed, re-serialised, sorted) so
 * two runs compare as lists regardless of partition order.
 */
final class CommittedAlerts {

  private CommittedAlerts() {}

  /** The committed alerts now (read_committed, until the end of the topic). */
  static List<String> read(String bootstrap, String topic) {
    return TopicReader.readAll(bootstrap, topic, Duration.ofSeconds(30)).stream()
        .map(AlertJson::parse)
        .map(AlertJson::toJson)
        .sorted()
        .toList();
  }

  /**
   * Waits until at least {@code expected} alerts are committed (or {@code timeout} passes), then
   * {@code settle} more (a duplicate or an extra alert would be committed by then) and reads them.
   */
  static List<String> await(
      String bootstrap, String topic, int expected, Duration timeout, Duration settle)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline && read(bootstrap, topic).size() < expected) {
      Thread.sleep(1000);
    }
    Thread.sleep(settle.toMillis());
    return read(bootstrap, topic);
  }
}
