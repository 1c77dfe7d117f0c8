package dev.trainwatch.alerts.inhibit;

import dev.trainwatch.alerts.config.AlertsConfig.InhibitRule;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.model.Matcher;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Alertmanager inhibition: a firing alert matching a rule's source mutes every other alert that
 * matches the rule's target and has the same values for the rule's {@code equal} labels. By default
 * a critical mutes the warnings of the same run and family. An alert never inhibits itself.
 */
public final class Inhibitor {

  private final List<InhibitRule> rules;

  public Inhibitor(List<InhibitRule> rules) {
    this.rules = List.copyOf(rules);
  }

  /** True if {@code target} is muted by one of the firing alerts in {@code all}. */
  public boolean inhibited(Alert target, Collection<Alert> all) {
    return !inhibitedBy(target, all, true).isEmpty();
  }

  /** The fingerprints of the firing alerts in {@code all} that mute {@code target}. */
  public List<String> inhibitedBy(Alert target, Collection<Alert> all) {
    return inhibitedBy(target, all, false);
  }

  private List<String> inhibitedBy(Alert target, Collection<Alert> all, boolean first) {
    List<String> out = new ArrayList<>();
    for (InhibitRule r : rules) {
      if (!Matcher.all(r.target(), target.labels())) {
        continue;
      }
      for (Alert source : all) {
        if (!source.resolved()
            && !source.fingerprint().equals(target.fingerprint())
            && Matcher.all(r.source(), source.labels())
            && equal(r.equal(), source, target)) {
          out.add(source.fingerprint());
          if (first) {
            return out;
          }
        }
      }
    }
    return out;
  }

  private static boolean equal(List<String> labels, Alert a, Alert b) {
    for (String l : labels) {
      if (!Objects.equals(a.label(l), b.label(l))) {
        return false;
      }
    }
    return true;
  }
}
