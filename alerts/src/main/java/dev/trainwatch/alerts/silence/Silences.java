package dev.trainwatch.alerts.silence;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The silence store, shared by the API threads and the dispatcher (hence concurrent). Every change
 * is handed to {@code onChange} (the journal) before it becomes visible, so silences made through
 * the API survive a restart.
 */
public final class Silences {

  private final Map<String, Silence> byId = new ConcurrentHashMap<>();
  private final Consumer<Silence> onChange;

  public Silences(Consumer<Silence> onChange) {
    this.onChange = onChange;
  }

  /** Restores a silence from the journal or the config file without journaling it again. */
  public void restore(Silence s) {
    byId.put(s.id(), s);
  }

  public Silence create(Silence draft) {
    byId.put(draft.id(), draft); // map first, then journal: see Journal#compact
    onChange.accept(draft);
    return draft;
  }

  public static String newId() {
    return UUID.randomUUID().toString();
  }

  /** Expires a silence; returns false if unknown. */
  public boolean expire(String id, Instant now) {
    Silence s = byId.get(id);
    if (s == null) {
      return false;
    }
    Silence expired = s.expiredAt(now);
    byId.put(id, expired);
    onChange.accept(expired);
    return true;
  }

  public Optional<Silence> get(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  public Collection<Silence> all() {
    return List.copyOf(byId.values());
  }

  public boolean mutes(Map<String, String> labels, Instant now) {
    for (Silence s : byId.values()) {
      if (s.mutes(labels, now)) {
        return true;
      }
    }
    return false;
  }

  /** Ids of the active silences that mute these labels. */
  public List<String> mutedBy(Map<String, String> labels, Instant now) {
    List<String> out = new ArrayList<>();
    for (Silence s : byId.values()) {
      if (s.mutes(labels, now)) {
        out.add(s.id());
      }
    }
    return out;
  }

  public List<Silence> active(Instant now) {
    List<Silence> out = new ArrayList<>();
    for (Silence s : byId.values()) {
      if (s.active(now)) {
        out.add(s);
      }
    }
    return out;
  }
}
