package dev.trainwatch.jobs.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import dev.trainwatch.wire.TraceFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** The numbers the detectors expose for dashboards, on real public traces. */
class DetectorMetricsTest {

  static final Path TRACES =
      Path.of(System.getProperty("trainwatch.shared", "../../shared"), "eval", "traces");

  record Sample(long step, String detector, String name, double value) {}

  private static List<Sample> metricsOf(String trace) {
    Path p = TRACES.resolve(trace);
    assumeTrue(Files.exists(p), "public traces not found");
    List<Sample> out = new ArrayList<>();
    RunMonitor[] m = {null};
    long[] step = {0};
    TraceFiles.forEachLine(
        p,
        line -> {
          TelemetryRecord r = ((ParseResult.Parsed) TelemetryParser.DEFAULT.parse(line)).record();
          if (m[0] == null) {
            m[0] = new RunMonitor(r.run(), DetectorConfig.DEFAULTS);
          }
          step[0] = r.step();
          m[0].observe(r, a -> {}, (d, n, v) -> out.add(new Sample(step[0], d, n, v)));
        });
    return out;
  }

  private static Map<String, List<Sample>> byName(List<Sample> s) {
    Map<String, List<Sample>> m = new HashMap<>();
    s.forEach(x -> m.computeIfAbsent(x.detector() + "/" + x.name(), k -> new ArrayList<>()).add(x));
    return m;
  }

  @Test
  void softmaxMarginClimbsToTheFloat32LimitBeforeCollapse() {
    Map<String, List<Sample>> m = byName(metricsOf("sc-mlp-p97-lr3e-3-s1.jsonl.gz"));
    assertThat(m.get("softmax_absorption/margin_limit"))
        .allSatisfy(s -> assertThat(s.value()).isEqualTo(24 * Math.log(2), Offset.offset(1e-9)));
    double beforeOnset =
        m.get("softmax_absorption/margin").stream()
            .filter(s -> s.step() < 2188)
            .mapToDouble(Sample::value)
            .max()
            .orElseThrow();
    assertThat(beforeOnset).isBetween(14.0, 16.64);
    assertThat(m.get("softmax_absorption/eta_steps")).isNotEmpty();
    // sampled every 10 records, not every record
    assertThat(m.get("softmax_absorption/margin_limit").size()).isBetween(3500 / 10, 3500 / 10 + 2);
  }

  @Test
  void continualMetricsShowTheGapOnEarlierTasks() {
    Map<String, List<Sample>> m = byName(metricsOf("cl-digits-ci-replay-s0.jsonl.gz"));
    List<Sample> minT0 = m.get("old_task_drop/min_acc/t0");
    assertThat(minT0.get(minT0.size() - 1).value()).isLessThan(0.6);
    assertThat(m.get("old_task_drop/wc_acc"))
        .allSatisfy(s -> assertThat(s.value()).isBetween(0.0, 1.0));
    assertThat(m.get("old_task_drop/wf10"))
        .anySatisfy(s -> assertThat(s.value()).isGreaterThan(0.3));
  }

  @Test
  void divergenceBaselinesTrackTheLoss() {
    Map<String, List<Sample>> m = byName(metricsOf("lm-char-py-d128-w800-lr1e-1-s1.jsonl.gz"));
    List<Sample> min = m.get("divergence/loss_running_min");
    List<Sample> ewma = m.get("divergence/loss_ewma");
    assertThat(min.get(min.size() - 1).value()).isLessThan(ewma.get(ewma.size() - 1).value() / 1.4);
    assertThat(m.get("grad_norm_spike/grad_norm_ema")).isNotEmpty();
    assertThat(m.get("loss_spike/loss_median")).isNotEmpty();
  }
}
