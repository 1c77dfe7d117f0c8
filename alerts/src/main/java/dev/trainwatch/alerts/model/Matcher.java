package dev.trainwatch.alerts.model;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One Alertmanager label matcher: {@code name="v"}, {@code name!="v"}, {@code name=~"re"}, {@code
 * name!~"re"}. Regexes are anchored (fully matched), as in Alertmanager. A missing label matches as
 * the empty string.
 */
public record Matcher(String name, String value, boolean isRegex, boolean isEqual) {

  private static final Pattern SYNTAX =
      Pattern.compile("\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"?(.*?)\"?\\s*");

  public Matcher {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("matcher name is required");
    }
    value = value == null ? "" : value;
    if (isRegex) {
      try {
        Pattern.compile(value);
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException("invalid regex '" + value + "': " + e.getDescription());
      }
    }
  }

  /** Parses {@code severity="critical"} and friends; throws naming the bad text. */
  public static Matcher parse(String text) {
    java.util.regex.Matcher m = SYNTAX.matcher(text == null ? "" : text);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "invalid matcher '"
              + text
              + "', expected label=\"value\", label!=\"value\", label=~\"regex\" or label!~\"regex\"");
    }
    String op = m.group(2);
    return new Matcher(m.group(1), m.group(3), op.endsWith("~"), op.startsWith("="));
  }

  public boolean matches(Map<String, String> labels) {
    String v = labels.getOrDefault(name, "");
    boolean hit = isRegex ? Pattern.matches(value, v) : value.equals(v);
    return hit == isEqual;
  }

  public static boolean all(List<Matcher> matchers, Map<String, String> labels) {
    for (Matcher m : matchers) {
      if (!m.matches(labels)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return name + (isEqual ? (isRegex ? "=~" : "=") : (isRegex ? "!~" : "!=")) + '"' + value + '"';
  }
}
