package dev.trainwatch.jobs.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainwatch.jobs.detect.instability.LossSpikeDetector;
import dev.trainwatch.jobs.detect.stabilitygap.OldTaskDropDetector;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The declared detector settings: validation at start-up, and docs/detectors.md tied to the
 * declarations.
 */
class DetectorSettingsTest {

  static final Path DOCS =
      Path.of(System.getProperty("trainwatch.root", ".."), "docs", "detectors.md");

  private static DetectorConfig config(Map<String, String> s) {
    return new DetectorConfig(new Settings(s));
  }

  @Test
  void aDeclaredSettingIsParsedAndHandedToTheDetector() {
    DetectorConfig c = config(Map.of("instability.loss_spike.ratio", "3.5"));
    assertThat(c.get(LossSpikeDetector.Config.class, LossSpikeDetector.Config::from).ratio())
        .isEqualTo(3.5);
    assertThat(
            DetectorConfig.DEFAULTS
                .get(LossSpikeDetector.Config.class, LossSpikeDetector.Config::from)
                .ratio())
        .isEqualTo(LossSpikeDetector.RATIO.dflt());
  }

  @Test
  void anUnknownKeyOfAKnownDetectorNamesTheKeyAndListsWhatTheDetectorTakes() {
    assertThatThrownBy(() -> config(Map.of("instability.loss_spike.no_such_key", "7")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "setting 'instability.loss_spike.no_such_key': unknown key; instability.loss_spike takes "
                + "z, ratio, min_rise, min_steps, ")
        .hasMessageEndingWith(", min_baseline_loss (docs/detectors.md)");
  }

  @Test
  void anUnknownDetectorNamesTheKeyAndListsTheDetectorPrefixes() {
    assertThatThrownBy(() -> config(Map.of("gap.warn_drop", "0.2")))
        .hasMessageStartingWith(
            "setting 'gap.warn_drop': unknown key; detector settings start with one of ")
        .hasMessageContaining("stability_gap.old_task_drop.");
  }

  @Test
  void anUnparsableValueNamesTheKeyAndTheType() {
    assertThatThrownBy(() -> config(Map.of("instability.loss_spike.ratio", "abc")))
        .hasMessage(
            "setting 'instability.loss_spike.ratio': expected a number (a value > 0), got 'abc'");
    assertThatThrownBy(() -> config(Map.of("instability.loss_spike.min_steps", "1.5")))
        .hasMessage(
            "setting 'instability.loss_spike.min_steps': expected an integer (a value >= 0), got '1.5'");
    assertThatThrownBy(
            () -> config(Map.of("softmax_collapse.softmax_absorption.require_norm_growth", "yes")))
        .hasMessageContaining("expected true or false, got 'yes'");
    assertThatThrownBy(() -> config(Map.of("instability.loss_spike.ratio", "NaN")))
        .hasMessageContaining("expected a finite number");
  }

  @Test
  void anOutOfRangeValueNamesTheKeyAndTheRange() {
    assertThatThrownBy(() -> config(Map.of("stability_gap.old_task_drop.warn_drop", "1.5")))
        .hasMessage(
            "setting 'stability_gap.old_task_drop.warn_drop': expected a value >= 0 and <= 1, got '1.5'");
    assertThatThrownBy(
            () -> config(Map.of("softmax_collapse.softmax_absorption.reduction_lanes", "6")))
        .hasMessageContaining("expected a power of two from 1 to 64, got '6'");
    assertThatThrownBy(
            () -> config(Map.of("softmax_collapse.softmax_absorption.default_dtype", "float8")))
        .hasMessageContaining("expected one of float32, bfloat16, float16, float64, got 'float8'");
  }

  @Test
  void crossFieldRulesOfADetectorAreCheckedAtStartUp() {
    assertThatThrownBy(
            () ->
                config(
                    Map.of(
                        "stability_gap.old_task_drop.warn_drop",
                        "0.3",
                        "stability_gap.old_task_drop.critical_drop",
                        "0.2")))
        .hasMessageContaining("warn_drop <= critical_drop");
  }

  @Test
  void theJobPrefixIsShownInErrors() {
    assertThatThrownBy(
            () ->
                new DetectorConfig(
                    new Settings(Map.of("instability.loss_spike.ratio", "x")), "detector."))
        .hasMessageStartingWith("setting 'detector.instability.loss_spike.ratio':");
  }

  @Test
  void everyDetectorDeclaresItsSettingsAndEveryDefaultIsValid() {
    assertThat(DetectorRegistry.entries()).hasSameSizeAs(DetectorRegistry.newDetectors());
    for (DetectorRegistry.Entry e : DetectorRegistry.entries()) {
      assertThat(e.settings().settings()).as(e.settings().prefix()).isNotEmpty();
      assertThat(e.config().apply(Settings.DEFAULTS)).isNotNull();
    }
    assertThat(OldTaskDropDetector.Config.DEFAULTS.warnDrop())
        .isEqualTo(OldTaskDropDetector.WARN_DROP.dflt());
  }

  /** One row of a settings table in docs/detectors.md. */
  record DocRow(String key, String dflt, String meaning) {}

  static Map<String, DocRow> docRows() throws IOException {
    Map<String, DocRow> rows = new LinkedHashMap<>();
    String prefix = "";
    Pattern header = Pattern.compile("^\\| key \\(`([^`]+)` \\+ \\)");
    Pattern row = Pattern.compile("^\\| `([^`]+)` \\| `?([^|`]+?)`? \\| (.*) \\|$");
    for (String line : Files.readAllLines(DOCS)) {
      Matcher h = header.matcher(line);
      if (h.find()) {
        prefix = h.group(1);
        continue;
      }
      if (line.startsWith("| key |")) {
        prefix = "";
        continue;
      }
      Matcher m = row.matcher(line);
      if (m.matches()) {
        String key = prefix + m.group(1);
        rows.put(key, new DocRow(key, m.group(2).trim(), m.group(3).trim()));
      }
    }
    return rows;
  }

  @Test
  void docsListEveryDeclaredSettingWithItsDefaultAndMeaningAndNothingElse() throws IOException {
    Map<String, DocRow> docs = docRows();
    List<String> problems = new ArrayList<>();
    for (Setting<?> s : DetectorRegistry.settings()) {
      DocRow r = docs.remove(s.key());
      if (r == null) {
        problems.add(
            "missing from docs/detectors.md: | `"
                + s.key()
                + "` | "
                + s.defaultText()
                + " | "
                + s.doc()
                + " |");
        continue;
      }
      if (!sameDefault(s, r.dflt())) {
        problems.add(
            s.key() + ": docs say default " + r.dflt() + ", declaration says " + s.defaultText());
      }
      if (!r.meaning().equals(s.doc())) {
        problems.add(
            s.key()
                + ": docs meaning differs from the declaration's doc:\n  docs: "
                + r.meaning()
                + "\n  code: "
                + s.doc());
      }
    }
    docs.keySet().forEach(k -> problems.add("documented but not declared by any detector: " + k));
    assertThat(problems).as("docs/detectors.md vs the detectors' declarations").isEmpty();
    assertThat(DetectorRegistry.settings()).hasSizeGreaterThan(70);
  }

  private static boolean sameDefault(Setting<?> s, String doc) {
    return switch (s.type()) {
      case DOUBLE, INT, LONG -> {
        try {
          yield new BigDecimal(doc).compareTo(new BigDecimal(s.defaultText())) == 0;
        } catch (NumberFormatException e) {
          yield false;
        }
      }
      default -> doc.equals(s.defaultText());
    };
  }
}
