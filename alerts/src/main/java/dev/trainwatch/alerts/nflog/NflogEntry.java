package dev.trainwatch.alerts.nflog;

import java.util.Set;
import java.util.TreeSet;

/**
 * What was last notified for one (group key, receiver): the label hashes of the firing and of the
 * resolved alerts sent, and when. {@code deadLettered} marks a notification that was given up on
 * (written to the dead-letter topic) rather than delivered; it still counts as handled so a
 * permanent failure is not retried every group interval.
 */
public record NflogEntry(
    String groupKey,
    String receiver,
    Set<String> firing,
    Set<String> resolved,
    long atMs,
    boolean deadLettered) {

  public NflogEntry {
    firing = new TreeSet<>(firing);
    resolved = new TreeSet<>(resolved);
  }

  public String key() {
    return key(groupKey, receiver);
  }

  public static String key(String groupKey, String receiver) {
    return receiver + "/" + groupKey;
  }
}
