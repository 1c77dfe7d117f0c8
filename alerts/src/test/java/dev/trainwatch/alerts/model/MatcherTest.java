package dev.trainwatch.alerts.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MatcherTest {

  private static final Map<String, String> LABELS = Map.of("run", "exp-12", "severity", "warning");

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "severity=\"warning\"   | true",
        "severity!=\"warning\"  | false",
        "run=~\"exp-.*\"        | true",
        "run=~\"exp\"           | false",
        "run!~\"prod-.*\"       | true",
        "affected_task=\"\"     | true",
        "affected_task!=\"\"    | false",
      })
  void matchesLikeAlertmanager(String matcher, boolean expected) {
    assertThat(Matcher.parse(matcher).matches(LABELS)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {"severity~x", "=x", "run=~\"(\""})
  void rejectsBadSyntaxNamingTheText(String text) {
    assertThatThrownBy(() -> Matcher.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {"severity=\"critical\"", "run=~\"a|b\"", "x!~\"y\"", "x!=\"\""})
  void roundTripsThroughToString(String text) {
    assertThat(Matcher.parse(Matcher.parse(text).toString())).isEqualTo(Matcher.parse(text));
  }
}
