package dev.trainwatch.alerts.inhibit;

import dev.trainwatch.alerts.config.AlertsConfig.InhibitRule;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.alerts.model.Matcher;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Alertmanager inhibition: a firing alert matching a rule's source mutes every other alert that
 * matches the rule's target and has the same values for the rule's {@code equal} labels. By
 * default a critical mutes the warnings of the same run and family. An alert never inhibits
 * itself (an escalated alert keeps its fingerprint).
 */
public final class Inhibitor {

  private final List<InhibitRule> rules;

  public Inhibitor(List<InhibitRule> rules) {
    this.rules = List.copyOf(rules);
  }

  /** True if {@code target} is muted by one of the firing alerts in {@code all}. */
  public boolean inhibited(Alert target, Collection<Alert> all) {
    for (InhibitRule r : rules) {
      if (!Matcher.all(r.target(), target.labels())) {
        continue;
      }
      for (Alert source : all) {
        if (!source.resolved() && !source.fingerprint().equals(target.fingerprint())
            && Matcher.all(r.source(), source.labels()) && equal(r.equal(), source, target)) {
          return true;
        }
      }
    }
    return false;
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
