package dev.trainwatch.ingest.alerts;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.Status;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The alerts of each run as the alerts topic told them, for the training processes' long polls.
 *
 * <p>Every event gets a sequence number of this sidecar instance ({@link #epoch} names the
 * instance). A poll with cursor {@code <epoch>-<seq>} receives the run's events after {@code seq};
 * a cursor of another instance, or one older than what is retained, receives every retained event
 * of the run again: delivery to the trainer is at least once, and the client drops repeats by
 * (fingerprint, status, severity, step). Memory is bounded: the last {@value #EVENTS_PER_RUN}
 * events and the firing alerts per run, for at most {@code maxRuns} runs (the least recently
 * alerted are forgotten first).
 */
public final class RunAlerts {

  /**
   * Events kept per run: a run's whole alert history is tens of events; a flapping one still fits.
   */
  static final int EVENTS_PER_RUN = 256;

  /** Long polls waiting at once (beyond it: 503), ~1 KB each. */
  static final int MAX_WAITERS = 10_000;

  /** One retained event: its sequence number and its JSON exactly as on the topic. */
  public record Entry(long seq, String json) {}

  /**
   * What a poll answers: the cursor to send next, the firing alerts, the events after the cursor.
   */
  public record Answer(String cursor, List<String> active, List<Entry> events) {}

  private static final class Run {
    final Map<String, String> active =
        new LinkedHashMap<>(); // fingerprint -> JSON of the firing event
    final ArrayDeque<Entry> events = new ArrayDeque<>();
    final List<Waiter> waiters = new ArrayList<>();
  }

  private record Waiter(long after, CompletableFuture<Answer> future) {}

  private final String epoch;
  private final int maxRuns;
  private final LinkedHashMap<String, Run> runs = new LinkedHashMap<>(16, 0.75f, true);
  private long seq;
  private int waiting;

  public RunAlerts(String epoch, int maxRuns) {
    this.epoch = epoch;
    this.maxRuns = maxRuns;
  }

  public String epoch() {
    return epoch;
  }

  /** Adds one event from the topic and answers the run's waiting polls. */
  public void add(AlertEvent a, String json) {
    List<Waiter> done;
    synchronized (this) {
      Run r = runs.computeIfAbsent(a.run(), k -> new Run());
      long s = ++seq;
      r.events.addLast(new Entry(s, json));
      if (r.events.size() > EVENTS_PER_RUN) {
        r.events.removeFirst();
      }
      if (a.status() == Status.FIRING) {
        r.active.put(a.fingerprint(), json);
      } else {
        r.active.remove(a.fingerprint());
      }
      done = new ArrayList<>(r.waiters);
      r.waiters.clear();
      waiting -= done.size();
      evict();
    }
    for (Waiter w : done) {
      w.future().complete(answerFor(a.run(), w.after()));
    }
  }

  /** The events of {@code run} after {@code cursor} (null or foreign: all retained), now. */
  public synchronized Answer since(String run, String cursor) {
    return answerFor(run, afterSeq(cursor));
  }

  /**
   * A poll: answered at once when there are events after the cursor (or no cursor is given), else
   * when the next event of the run arrives, else by {@link #expire} with none. Null when too many
   * polls already wait.
   */
  public synchronized CompletableFuture<Answer> await(String run, String cursor) {
    long after = afterSeq(cursor);
    Answer now = answerFor(run, after);
    if (cursor == null || after < 0 || !now.events().isEmpty()) {
      return CompletableFuture.completedFuture(now);
    }
    if (waiting >= MAX_WAITERS) {
      return null;
    }
    CompletableFuture<Answer> f = new CompletableFuture<>();
    Run r = runs.computeIfAbsent(run, k -> new Run());
    r.waiters.add(new Waiter(after, f));
    waiting++;
    evict();
    return f;
  }

  /** Answers a waiting poll with what there is (no new event within its wait). */
  public void expire(String run, CompletableFuture<Answer> f) {
    Waiter found = null;
    synchronized (this) {
      Run r = runs.get(run);
      if (r != null) {
        for (Iterator<Waiter> it = r.waiters.iterator(); it.hasNext(); ) {
          Waiter w = it.next();
          if (w.future() == f) {
            it.remove();
            waiting--;
            found = w;
            break;
          }
        }
      }
    }
    if (found != null) {
      f.complete(since(run, epoch + "-" + found.after()));
    }
  }

  private synchronized Answer answerFor(String run, long after) {
    Run r = runs.get(run);
    String cursor = epoch + "-" + seq;
    if (r == null) {
      return new Answer(cursor, List.of(), List.of());
    }
    List<Entry> evs = new ArrayList<>();
    for (Entry e : r.events) {
      if (e.seq() > after) {
        evs.add(e);
      }
    }
    return new Answer(cursor, new ArrayList<>(r.active.values()), evs);
  }

  /** -1 for no cursor, a foreign one or one that does not parse: "everything retained". */
  private long afterSeq(String cursor) {
    if (cursor == null || !cursor.startsWith(epoch + "-")) {
      return -1;
    }
    try {
      long s = Long.parseLong(cursor.substring(epoch.length() + 1));
      return s >= 0 && s <= seq ? s : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private void evict() {
    Iterator<Map.Entry<String, Run>> it = runs.entrySet().iterator();
    while (runs.size() > maxRuns && it.hasNext()) {
      Run r = it.next().getValue();
      if (r.waiters.isEmpty()) {
        it.remove();
      } else {
        break;
      }
    }
  }

  public synchronized int runs() {
    return runs.size();
  }
}
