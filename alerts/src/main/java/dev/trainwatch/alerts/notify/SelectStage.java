package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.config.Receiver;
import dev.trainwatch.alerts.dispatch.Flush;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.nflog.NflogEntry;
import dev.trainwatch.alerts.nflog.NotificationLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which alerts of a flush this receiver gets, and the log entry that will say so. A resolved alert
 * goes only to a receiver whose last notification of the group had it firing, so a receiver never
 * hears "resolved" for what it never saw fire (muted then, or resolved within group_wait). With
 * {@code send_resolved: false} resolved alerts are not sent but still enter the entry, so the log
 * knows the receiver is up to date. A forward flush (forward-mode receiver) sends every change once
 * and has no entry: it is neither deduplicated nor recorded.
 */
public record SelectStage(NotificationLog nflog) implements Stage {

  @Override
  public Step exec(Delivery d) {
    Flush f = d.flush();
    Receiver r = d.receiver();
    if (f.forward()) {
      return Stage.next(
          d.selected(
              f.alerts().stream().filter(a -> !a.resolved() || r.sendResolved()).toList(), null));
    }
    Set<String> lastFiring =
        nflog.get(f.groupKey(), r.name()).map(NflogEntry::firing).orElse(Set.of());
    Set<String> firing = new TreeSet<>();
    Set<String> resolved = new TreeSet<>();
    List<Alert> toSend = new ArrayList<>();
    for (Alert a : f.alerts()) {
      if (a.resolved() && !lastFiring.contains(a.fingerprint())) {
        continue;
      }
      (a.resolved() ? resolved : firing).add(a.labelsHash());
      if (!a.resolved() || r.sendResolved()) {
        toSend.add(a);
      }
    }
    return Stage.next(
        d.selected(
            toSend,
            new NflogEntry(
                f.groupKey(), r.name(), firing, resolved, f.now().toEpochMilli(), false)));
  }
}
