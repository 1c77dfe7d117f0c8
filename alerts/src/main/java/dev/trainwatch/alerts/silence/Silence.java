package dev.trainwatch.alerts.silence;

import dev.trainwatch.alerts.model.Matcher;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A silence: while {@code startsAt <= now < endsAt}, alerts whose labels match every matcher are
 * not notified. As in Alertmanager, a silence is expired by moving its end to now, never deleted,
 * so the API can still show it.
 */
public record Silence(
    String id,
    List<Matcher> matchers,
    Instant startsAt,
    Instant endsAt,
    String createdBy,
    String comment) {

  public Silence {
    if (id == null
        || matchers == null
        || matchers.isEmpty()
        || startsAt == null
        || endsAt == null) {
      throw new IllegalArgumentException(
          "id, at least one matcher, startsAt and endsAt are required");
    }
    if (endsAt.isBefore(startsAt)) {
      throw new IllegalArgumentException("endsAt must not be before startsAt");
    }
    matchers = List.copyOf(matchers);
  }

  public boolean active(Instant now) {
    return !now.isBefore(startsAt) && now.isBefore(endsAt);
  }

  public String state(Instant now) {
    return now.isBefore(startsAt) ? "pending" : now.isBefore(endsAt) ? "active" : "expired";
  }

  public boolean mutes(Map<String, String> labels, Instant now) {
    return active(now) && Matcher.all(matchers, labels);
  }

  /** This silence ended at {@code now}; a pending one becomes an empty interval at now. */
  public Silence expiredAt(Instant now) {
    if (now.isBefore(startsAt)) {
      return new Silence(id, matchers, now, now, createdBy, comment);
    }
    return new Silence(
        id, matchers, startsAt, now.isBefore(endsAt) ? now : endsAt, createdBy, comment);
  }
}
