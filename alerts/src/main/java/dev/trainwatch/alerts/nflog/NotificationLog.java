package dev.trainwatch.alerts.nflog;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The notification log: per group key and receiver, what was sent last. The pipeline writes it only
 * after a send succeeded (or was dead-lettered), and the write is on disk (journal, fsync) before
 * it returns, so a restart never re-sends what was delivered.
 */
public final class NotificationLog {

  private final Map<String, NflogEntry> entries = new ConcurrentHashMap<>();
  private final Journal journal;

  public NotificationLog(Journal journal, Collection<NflogEntry> restored) {
    this.journal = journal;
    restored.forEach(e -> entries.put(e.key(), e));
  }

  public Optional<NflogEntry> get(String groupKey, String receiver) {
    return Optional.ofNullable(entries.get(NflogEntry.key(groupKey, receiver)));
  }

  /** Records a send; durable (fsynced) when it returns. Map first: see {@link Journal#compact}. */
  public void log(NflogEntry e) {
    entries.put(e.key(), e);
    journal.appendSent(e);
  }

  public Collection<NflogEntry> all() {
    return List.copyOf(entries.values());
  }

  /**
   * Alertmanager's DedupStage rule: notify if there is something new firing, if everything resolved
   * since the last notification, if something newly resolved (and the receiver wants resolved
   * notifications), or if the last notification is older than the repeat interval.
   */
  public boolean needsUpdate(
      String groupKey,
      String receiver,
      Set<String> firing,
      Set<String> resolved,
      boolean sendResolved,
      Duration repeatInterval,
      Instant now) {
    NflogEntry e = entries.get(NflogEntry.key(groupKey, receiver));
    if (e == null) {
      return !firing.isEmpty();
    }
    if (!e.firing().containsAll(firing)) {
      return true;
    }
    if (firing.isEmpty()) {
      return !e.firing().isEmpty();
    }
    if (sendResolved && !e.resolved().containsAll(resolved)) {
      return true;
    }
    return e.atMs() + repeatInterval.toMillis() <= now.toEpochMilli();
  }

  /** Drops entries whose group no longer exists and whose last send is older than {@code keep}. */
  public int gc(Set<String> liveGroupKeys, Instant now, Duration keep) {
    int before = entries.size();
    entries
        .values()
        .removeIf(
            e ->
                !liveGroupKeys.contains(e.groupKey())
                    && e.atMs() + keep.toMillis() < now.toEpochMilli());
    return before - entries.size();
  }
}
