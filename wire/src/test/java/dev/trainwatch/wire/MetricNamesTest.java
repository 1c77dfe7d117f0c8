package dev.trainwatch.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/telemetry.md lists exactly the catalogue of well-known metric names, with the same unit and
 * meaning.
 */
class MetricNamesTest {

  static final Path DOC = Path.of("..", "docs", "telemetry.md");

  @Test
  void theDocsTableIsTheCatalogue() throws Exception {
    String doc = Files.readString(DOC);
    int start = doc.indexOf("## Well-known metric names");
    int end = doc.indexOf("\n## ", start + 1);
    Matcher m =
        Pattern.compile("(?m)^\\| `([^`]+)` \\| (.+?) \\| (.+) \\|$")
            .matcher(doc.substring(start, end));
    List<MetricNames.Name> documented = new ArrayList<>();
    while (m.find()) {
      documented.add(new MetricNames.Name(m.group(1), m.group(2).trim(), m.group(3).trim()));
    }
    assertThat(documented).containsExactlyElementsOf(MetricNames.ALL);
  }

  @Test
  void namesAreDistinctAndPrefixesEndInASlash() {
    assertThat(MetricNames.ALL.stream().map(MetricNames.Name::name)).doesNotHaveDuplicates();
    assertThat(MetricNames.EVAL_ACC_TASK).endsWith("/");
    assertThat(MetricNames.ATTN_MAX_LOGIT_LAYER).isEqualTo(MetricNames.ATTN_MAX_LOGIT + "/");
  }
}
