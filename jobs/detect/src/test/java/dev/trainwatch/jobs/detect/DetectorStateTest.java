package dev.trainwatch.jobs.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainwatch.jobs.detect.instability.LossScaleCollapseDetector;
import dev.trainwatch.jobs.detect.instability.NonFiniteDetector;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.Metrics;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.Tags;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every registered detector's state, checked on a synthetic run that drives the detectors through
 * fire and resolve (NaN, a gradient spike, a loss spike, rising attention logits, a collapsing
 * attention entropy, sharpness past the edge, large updates, a collapsing loss scale, absorbed
 * samples, a divergence with drifting log Z, an LR jump, a task switch with a stability gap, a
 * stall): at many points of the run, writing the state, reading it back and writing it again gives
 * the same bytes, and a run restored from its state mid-way emits exactly the alerts the
 * uninterrupted run emits. No trace files needed. A new detector gets these checks by its registry
 * line alone; to prove its alerts too, add its trouble to {@link #scenario()} and its name to
 * {@link #DRIVEN}.
 */
class DetectorStateTest {

  static final String RUN = "synthetic";

  /** The detectors the scenario drives through fire and a resolve of their own. */
  static final Set<String> DRIVEN =
      Set.of(
          "non_finite",
          "grad_norm_spike",
          "loss_spike",
          "attention_logit_growth",
          "attention_entropy_collapse",
          "edge_of_stability",
          "update_ratio",
          "loss_scale_collapse",
          "softmax_absorption",
          "output_logit_drift",
          "divergence",
          "sudden_divergence",
          "old_task_drop",
          "run_stalled");

  /** A record arriving at processing time {@code nowMs}, or (record null) a timer at that time. */
  record Tick(TelemetryRecord record, long nowMs) {}

  static final List<Tick> SCENARIO = scenario();

  static Stream<String> detectors() {
    return DetectorRegistry.newDetectors().stream().map(Detector::name);
  }

  static Supplier<List<Detector>> only(String name) {
    return () ->
        new ArrayList<>(
            DetectorRegistry.newDetectors().stream().filter(d -> d.name().equals(name)).toList());
  }

  @Test
  void theScenarioDrivesEveryDetectorThroughFireAndResolve() {
    assertThat(detectors().toList()).containsAll(DRIVEN);
    List<AlertEvent> alerts = new ArrayList<>();
    RunMonitor m = new RunMonitor(RUN, DetectorConfig.DEFAULTS);
    for (Tick t : SCENARIO) {
      if (t.record() != null && t.record().isEvent(TelemetryRecord.RUN_END)) {
        break; // resolves whatever still fires: not the detector's own resolve
      }
      play(m, t, alerts::add);
    }
    Set<String> fired = new TreeSet<>();
    Set<String> resolved = new TreeSet<>();
    for (AlertEvent a : alerts) {
      (a.status() == Status.FIRING ? fired : resolved).add(a.detector());
    }
    assertThat(fired).as("fired").containsAll(DRIVEN);
    assertThat(resolved).as("resolved").containsAll(DRIVEN);
  }

  @ParameterizedTest
  @MethodSource("detectors")
  void writeReadWriteGivesTheSameBytesThroughoutTheRun(String name) throws IOException {
    Detector d = only(name).get().get(0);
    RunMonitor m = new RunMonitor(RUN, DetectorConfig.DEFAULTS, List.of(d));
    int checked = 0;
    for (int i = 0; i < SCENARIO.size(); i++) {
      play(m, SCENARIO.get(i), a -> {});
      if (i % 25 == 0) {
        byte[] first = frame(d);
        Detector copy = only(name).get().get(0);
        DetectorStates.read(List.of(copy), in(first));
        assertThat(frame(copy)).as("%s at tick %d", name, i).isEqualTo(first);
        checked++;
      }
    }
    assertThat(checked).isGreaterThan(100);
  }

  @ParameterizedTest
  @MethodSource("detectors")
  void aRunRestoredMidwayEmitsTheAlertsOfTheUninterruptedRun(String name) throws IOException {
    List<String> all = new ArrayList<>();
    List<Integer> before = new ArrayList<>(); // alerts emitted before tick i
    RunMonitor m = new RunMonitor(RUN, DetectorConfig.DEFAULTS, only(name).get());
    List<byte[]> states = new ArrayList<>();
    for (int i = 0; i < SCENARIO.size(); i++) {
      before.add(all.size());
      states.add(i % 97 == 0 ? state(m) : null);
      play(m, SCENARIO.get(i), a -> all.add(AlertJson.toJson(a)));
    }
    for (int cut = 0; cut < SCENARIO.size(); cut += 97) {
      RunMonitor restored =
          RunMonitor.read(DetectorConfig.DEFAULTS, in(states.get(cut)), only(name));
      assertThat(state(restored))
          .as("%s restored at tick %d", name, cut)
          .isEqualTo(states.get(cut));
      List<String> after = new ArrayList<>();
      for (int i = cut; i < SCENARIO.size(); i++) {
        play(restored, SCENARIO.get(i), a -> after.add(AlertJson.toJson(a)));
      }
      assertThat(after)
          .as("%s restored at tick %d", name, cut)
          .isEqualTo(all.subList(before.get(cut), all.size()));
    }
  }

  /**
   * Run states written by earlier builds restore, and the run goes on with the alerts of the
   * uninterrupted run. Format 2: before detector frames had a version (the build before issue 16's
   * framework); format 3: versioned frames, with the LR phase still in six detectors' frames (the
   * build before the phase moved to the run's context). Each fixture is the full registry's state
   * at tick 1440 of {@link #scenario()}, written by that build: mid-divergence, with loss_spike,
   * divergence and output_logit_drift firing.
   */
  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void aCheckpointOfAnEarlierFormatStillRestores(int format) throws IOException {
    int cut = 1440;
    List<String> all = new ArrayList<>();
    int before = -1;
    RunMonitor m = new RunMonitor(RUN, DetectorConfig.DEFAULTS);
    for (int i = 0; i < SCENARIO.size(); i++) {
      if (i == cut) {
        before = all.size();
      }
      play(m, SCENARIO.get(i), a -> all.add(AlertJson.toJson(a)));
    }
    byte[] old;
    try (InputStream s =
        getClass().getResourceAsStream("/state/run-state-v" + format + "-tick1440.bin")) {
      old = s.readAllBytes();
    }
    assertThat(old[0]).isEqualTo((byte) format);
    RunMonitor restored = RunMonitor.read(DetectorConfig.DEFAULTS, in(old));
    assertThat(restored.activeAlerts())
        .extracting(AlertEvent::detector)
        .containsExactlyInAnyOrder("loss_spike", "divergence", "output_logit_drift");
    List<String> after = new ArrayList<>();
    for (int i = cut; i < SCENARIO.size(); i++) {
      play(restored, SCENARIO.get(i), a -> after.add(AlertJson.toJson(a)));
    }
    assertThat(after).isEqualTo(all.subList(before, all.size()));
    if (format < 3) {
      return; // format 2's counters are converted on reading: its alerts match, its bytes do not
    }
    // and what it writes now is what the uninterrupted run writes at that tick
    RunMonitor fresh = new RunMonitor(RUN, DetectorConfig.DEFAULTS);
    for (int i = 0; i < cut; i++) {
      play(fresh, SCENARIO.get(i), a -> {});
    }
    RunMonitor reread = RunMonitor.read(DetectorConfig.DEFAULTS, in(old));
    assertThat(bytes(reread)).isEqualTo(bytes(fresh));
  }

  @Test
  void aFrameOfAnUnknownVersionIsRejectedNamingTheDetector() throws IOException {
    Detector d = new NonFiniteDetector();
    byte[] f = frame(d);
    f[2 + d.name().length()] = 9; // the version byte after the name
    assertThatThrownBy(() -> DetectorStates.read(List.of(d), in(f)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("detector non_finite")
        .hasMessageContaining("version 9 is unknown")
        .hasMessageContaining("versions 1 to 2");
  }

  @Test
  void aFrameWithTrailingBytesIsRejectedNamingTheDetector() throws IOException {
    Detector d = new LossScaleCollapseDetector();
    byte[] f = withLength(frame(d), +3);
    assertThatThrownBy(() -> DetectorStates.read(List.of(d), in(f)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("detector loss_scale_collapse")
        .hasMessageContaining("3 trailing bytes");
  }

  @Test
  void aShortFrameIsRejectedNamingTheDetector() throws IOException {
    Detector d = new LossScaleCollapseDetector();
    byte[] f = withLength(frame(d), -1);
    assertThatThrownBy(() -> DetectorStates.read(List.of(d), in(f)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("detector loss_scale_collapse")
        .hasMessageContaining("ends early");
  }

  /** The frame with its length field changed by {@code delta} and as many bytes added or cut. */
  private static byte[] withLength(byte[] frame, int delta) throws IOException {
    DataInputStream in = in(frame);
    String name = in.readUTF();
    int version = in.readUnsignedByte();
    byte[] body = new byte[in.readInt()];
    in.readFully(body);
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(b);
    out.writeUTF(name);
    out.writeByte(version);
    out.writeInt(body.length + delta);
    out.write(body, 0, Math.min(body.length, body.length + delta));
    out.write(new byte[Math.max(0, delta)]);
    return b.toByteArray();
  }

  static void play(RunMonitor m, Tick t, AlertSink sink) {
    if (t.record() == null) {
      m.onProcessingTime(t.nowMs(), sink);
    } else {
      m.observe(t.record(), sink, MetricSink.NONE, t.nowMs());
    }
  }

  private static byte[] frame(Detector d) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    DetectorStates.write(d, new DataOutputStream(b), new ByteArrayOutputStream());
    return b.toByteArray();
  }

  static byte[] state(RunMonitor m) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    m.write(new DataOutputStream(b));
    return b.toByteArray();
  }

  private static byte[] bytes(RunMonitor m) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    m.write(new DataOutputStream(b));
    return b.toByteArray();
  }

  private static DataInputStream in(byte[] b) {
    return new DataInputStream(new ByteArrayInputStream(b));
  }

  /**
   * One run, 2,700 steps at 100 ms each, in which every detector's trouble comes and goes in turn
   * on a slowly falling, slightly noisy loss: the step ranges are far enough apart that each
   * detector has resolved (and its baseline settled) before the next trouble starts.
   */
  static List<Tick> scenario() {
    Random noise = new Random(16);
    List<Tick> out = new ArrayList<>();
    long t0 = 1_800_000_000_000L;
    double lr = 0.01;
    for (long step = 0; step < 2700; step++) {
      Map<String, Double> m = new LinkedHashMap<>();
      double wobble = 1 + 0.01 * noise.nextGaussian();
      double loss = (2.0 * Math.exp(-step / 400.0) + 0.5) * wobble;
      double grad = 1.0 * (1 + 0.05 * noise.nextGaussian());
      if (step == 300) {
        loss = Double.NaN; // non_finite: critical at once, resolved after 50 finite records
      }
      if (step == 400) {
        grad *= 50; // grad_norm_spike
      }
      if (step == 500) {
        loss *= 3; // loss_spike, back three records later
      }
      if (step >= 1400 && step < 1500) {
        loss *= 1 + 1.5 * Math.min(1, (step - 1400) / 40.0); // divergence, log Z drifting with it
        m.put("logits/lse_mean", 80.0);
      } else {
        m.put("logits/lse_mean", 5.0);
      }
      if (step == 1700) {
        lr = 0.05; // sudden_divergence: an LR jump to a new high after a flat stretch
      }
      m.put("loss", loss);
      m.put("grad_norm", grad);
      m.put("lr", lr);
      m.put("update_ratio", step >= 900 && step < 930 ? 0.1 : 1e-3);
      m.put("loss_scale", step >= 1000 && step < 1030 ? 32.0 : 65536.0);
      m.put("attn/max_logit", step >= 600 && step < 610 ? 600.0 : 20.0);
      m.put("attn/entropy_min", step >= 700 && step < 720 ? 1e-4 : 0.5);
      if (step >= 800 && step < 900) {
        m.put("sharpness", step < 810 ? 300.0 : 50.0); // lr x sharpness 3 > 2, then 0.5
      }
      if (step >= 1100 && step < 1400) {
        m.put("logits/absorbed_frac", step < 1110 ? 0.02 : step < 1115 ? 0.6 : 0.0);
      }
      // stability gap: t0 learnt to 0.9, t1 from step 1900; t0 falls to 0.5 and recovers
      if (step % 10 == 0) {
        double t0acc = Math.min(0.9, 0.3 + step / 1000.0) + 0.002 * noise.nextGaussian();
        if (step == 1910) {
          t0acc = 0.5;
        } else if (step == 1920) {
          t0acc = 0.6;
        }
        m.put("eval/acc/t0", t0acc);
        if (step >= 1900) {
          m.put("eval/acc/t1", Math.min(0.9, 0.3 + (step - 1900) / 500.0));
        }
      }
      String task = step < 1900 ? "t0" : "t1";
      String event = step == 2699 ? TelemetryRecord.RUN_END : null;
      Tags tags = step == 0 ? Tags.of(Map.of("optimizer", "sgd", "dtype", "float32")) : Tags.EMPTY;
      long now = t0 + step * 100 + (step > 2500 ? 600_000 : 0);
      out.add(
          new Tick(
              new TelemetryRecord(RUN, step, now, task, event, Metrics.of(m), tags, null), now));
      if (step == 2500) {
        out.add(new Tick(null, now + 300_000)); // run_stalled: 5 min without a step
      }
    }
    return out;
  }
}
