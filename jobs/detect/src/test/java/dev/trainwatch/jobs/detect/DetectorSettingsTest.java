package dev.trainwatch.jobs.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainwatch.jobs.detect.instability.LossSpikeDetector;
import dev.trainwatch.jobs.detect.stabilitygap.OldTaskDropDetector;
import dev.trainwatch.wire.Family;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The declared detector settings: validation at start-up, and docs/detectors.md tied to the
 * declarations: one {@code ## <family>} section per family, in it one {@code ### <detector>}
 * section per registered detector (the anchor the alerts service's {@code runbook_url} links to),
 * and each setting's row in its own detector's section.
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

  /**
   * One row of a settings table in docs/detectors.md, with the {@code ## } and {@code ### }
   * headings it sits under ("" when none) and its line number.
   */
  record DocRow(
      String key, String dflt, String meaning, String family, String detector, int line) {}

  /**
   * A {@code ## } (level 2) or {@code ### } (level 3) heading, with the family section it is in.
   */
  record Heading(int level, String text, String family, int line) {}

  static Map<String, DocRow> docRows() throws IOException {
    Map<String, DocRow> rows = new LinkedHashMap<>();
    String prefix = "";
    String family = "";
    String detector = "";
    Pattern header = Pattern.compile("^\\| key \\(`([^`]+)` \\+ \\)");
    Pattern row = Pattern.compile("^\\| `([^`]+)` \\| `?([^|`]+?)`? \\| (.*) \\|$");
    List<String> lines = Files.readAllLines(DOCS);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.startsWith("## ")) {
        family = line.substring(3).strip();
        detector = "";
        prefix = "";
        continue;
      }
      if (line.startsWith("### ")) {
        detector = line.substring(4).strip();
        prefix = "";
        continue;
      }
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
        rows.put(
            key, new DocRow(key, m.group(2).trim(), m.group(3).trim(), family, detector, i + 1));
      }
    }
    return rows;
  }

  static List<Heading> docHeadings() throws IOException {
    List<Heading> out = new ArrayList<>();
    String family = "";
    boolean fenced = false;
    List<String> lines = Files.readAllLines(DOCS);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.startsWith("```")) {
        fenced = !fenced;
      } else if (!fenced && line.startsWith("## ")) {
        family = line.substring(3).strip();
        out.add(new Heading(2, family, family, i + 1));
      } else if (!fenced && line.startsWith("### ")) {
        out.add(new Heading(3, line.substring(4).strip(), family, i + 1));
      }
    }
    return out;
  }

  /** The family of a registered detector: the first part of its settings prefix. */
  private static String family(DetectorRegistry.Entry e) {
    String p = e.settings().prefix();
    return p.substring(0, p.indexOf('.'));
  }

  private static String name(DetectorRegistry.Entry e) {
    return e.factory().get().name();
  }

  @Test
  void everyDetectorIsNamedAlikeInItsLabelSettingsPackageAndClass() {
    List<String> families = Arrays.stream(Family.values()).map(Family::wire).toList();
    List<String> problems = new ArrayList<>();
    for (DetectorRegistry.Entry e : DetectorRegistry.entries()) {
      Class<?> type = e.factory().get().getClass();
      String name = name(e);
      String family = family(e);
      String where = type.getName() + " (detector '" + name + "')";
      if (!families.contains(family)) {
        problems.add(where + ": settings prefix " + e.settings().prefix() + " names no family");
      }
      if (!e.settings().prefix().equals(family + "." + name + ".")) {
        problems.add(
            where
                + ": settings prefix "
                + e.settings().prefix()
                + " is not <family>.<detector>. = "
                + family
                + "."
                + name
                + ".");
      }
      String pkg = type.getPackageName().substring(type.getPackageName().lastIndexOf('.') + 1);
      if (!pkg.equals(family.replace("_", ""))) {
        problems.add(where + ": package " + pkg + " is not " + family.replace("_", ""));
      }
      String camel =
          Arrays.stream(name.split("_"))
                  .map(w -> Character.toUpperCase(w.charAt(0)) + w.substring(1))
                  .collect(Collectors.joining())
              + "Detector";
      if (!type.getSimpleName().equals(camel)) {
        problems.add(where + ": class " + type.getSimpleName() + " is not " + camel);
      }
    }
    assertThat(problems).as("one vocabulary: detector label, settings, package, class").isEmpty();
  }

  @Test
  void docsHaveOneSectionPerDetectorUnderItsFamilyAndNoOther() throws IOException {
    List<Heading> headings = docHeadings();
    List<String> problems = new ArrayList<>();
    Map<String, String> registered = new LinkedHashMap<>();
    for (DetectorRegistry.Entry e : DetectorRegistry.entries()) {
      registered.put(name(e), family(e));
    }
    for (Family f : Family.values()) {
      long n = headings.stream().filter(h -> h.level() == 2 && h.text().equals(f.wire())).count();
      if (n != 1) {
        problems.add(
            "docs/detectors.md needs exactly one '## "
                + f.wire()
                + "' section (what the family is), found "
                + n);
      }
    }
    for (DetectorRegistry.Entry e : DetectorRegistry.entries()) {
      String name = name(e);
      String family = family(e);
      List<Heading> hs =
          headings.stream().filter(h -> h.level() == 3 && h.text().equals(name)).toList();
      if (hs.isEmpty()) {
        problems.add(
            "docs/detectors.md has no section for detector "
                + name
                + ": add '### "
                + name
                + "' under '## "
                + family
                + "', with what it fires on, its sources and remedy, and its settings table"
                + " '| key (`"
                + e.settings().prefix()
                + "` + ) | default | meaning |'");
      } else if (hs.size() > 1) {
        problems.add(
            "'### "
                + name
                + "' appears "
                + hs.size()
                + " times in docs/detectors.md (lines "
                + hs.stream().map(h -> Integer.toString(h.line())).collect(Collectors.joining(", "))
                + "): keep one");
      } else if (!hs.get(0).family().equals(family)) {
        problems.add(
            "'### "
                + name
                + "' (docs/detectors.md line "
                + hs.get(0).line()
                + ") is under '## "
                + hs.get(0).family()
                + "': move it under '## "
                + family
                + "'");
      }
    }
    for (Heading h : headings) {
      boolean inFamily = Arrays.stream(Family.values()).anyMatch(f -> f.wire().equals(h.family()));
      if (h.level() == 3 && inFamily && !h.family().equals(registered.get(h.text()))) {
        problems.add(
            "'### "
                + h.text()
                + "' (docs/detectors.md line "
                + h.line()
                + ", under '## "
                + h.family()
                + "') is no registered detector of that family: sections under a family are"
                + " headed by detector names only");
      }
    }
    assertThat(problems).as("docs/detectors.md sections vs DetectorRegistry").isEmpty();
  }

  @Test
  void everySettingRowSitsInItsOwnDetectorsSection() throws IOException {
    Map<String, DocRow> docs = docRows();
    List<String> problems = new ArrayList<>();
    for (DetectorRegistry.Entry e : DetectorRegistry.entries()) {
      String name = name(e);
      String family = family(e);
      for (Setting<?> s : e.settings().settings()) {
        DocRow r = docs.get(s.key());
        if (r != null && !(r.family().equals(family) && r.detector().equals(name))) {
          problems.add(
              s.key()
                  + " (docs/detectors.md line "
                  + r.line()
                  + ") sits under '## "
                  + r.family()
                  + (r.detector().isEmpty() ? "" : "' / '### " + r.detector())
                  + "': move it to the settings table under '## "
                  + family
                  + "' / '### "
                  + name
                  + "'");
        }
      }
    }
    assertThat(problems).as("docs/detectors.md settings rows vs their detectors").isEmpty();
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
