package dev.trainwatch.jobs.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.RunMonitor;
import dev.trainwatch.wire.Golden;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/**
 * Issue 14: a fuzz test of the validator shared by every ingest path and the job, with a fixed
 * budget (seeded, 30,000 inputs, a few seconds). Random records and mutations of them and of the
 * golden lines, biased towards the limits (names around 256 characters, wide characters, steps
 * around 2^53, duplicate keys, escapes, control characters): the parser never throws, and every
 * record it accepts goes through the detectors and a checkpoint round trip of the run's state.
 */
class ValidatorFuzzTest {

  private static final int BUDGET = 30_000;
  private static final String[] PIECES = {
    "\"run\"",
    "\"step\"",
    "\"task\"",
    "\"event\"",
    "\"metrics\"",
    "\"tags\"",
    "\"logits\"",
    "\"time_ms\"",
    "\"dtype\"",
    "\"eval/acc/t1\"",
    "\"loss\"",
    "\"grad_norm\"",
    "\"NaN\"",
    "\"Infinity\"",
    "\"task_start\"",
    "\"run_end\"",
    "\"checkpoint\"",
    "9007199254740991",
    "9007199254740992",
    "9223372036854775807",
    "-1",
    "1e308",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\\\",
    "\\u0000",
    "\\ud800",
    "\\ud83d\\ude00",
    "\u0800",
    "\n",
    "null",
    "true"
  };

  @Test
  void nothingTheValidatorAcceptsFailsTheDetectorsOrACheckpoint() throws Exception {
    SplittableRandom random = new SplittableRandom(14);
    List<String> seeds = new ArrayList<>(Golden.validTelemetry());
    Map<String, RunMonitor> monitors = new HashMap<>();
    int accepted = 0;
    int rejected = 0;
    for (int i = 0; i < BUDGET; i++) {
      String input =
          i % 3 == 0
              ? randomRecord(random)
              : mutate(seeds.get(random.nextInt(seeds.size())), random);
      byte[] bytes =
          random.nextInt(50) == 0
              ? corruptBytes(input, random)
              : input.getBytes(StandardCharsets.UTF_8);
      ParseResult r = TelemetryParser.DEFAULT.parse(bytes);
      if (r instanceof ParseResult.Rejected rej) {
        assertThat(rej.reason()).isNotBlank();
        rejected++;
        continue;
      }
      accepted++;
      TelemetryRecord record = ((ParseResult.Parsed) r).record();
      if (seeds.size() < 2_000) {
        seeds.add(input); // accepted inputs breed further mutants
      }
      if (monitors.size() > 64) {
        monitors.clear();
      }
      RunMonitor m =
          monitors.computeIfAbsent(
              record.run(), run -> new RunMonitor(run, DetectorConfig.DEFAULTS));
      m.observe(record, a -> {});
      RunState state = new RunState(m, 1);
      DataOutputSerializer out = new DataOutputSerializer(1024);
      RunStateSerializer.INSTANCE.serialize(state, out);
      RunState back =
          RunStateSerializer.INSTANCE.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
      assertThat(back.monitor.run()).isEqualTo(record.run());
      monitors.put(
          record.run(), back.monitor); // go on from the restored state, as after a recovery
    }
    System.out.printf(
        Locale.ROOT,
        "validator fuzz: %,d accepted and checkpointed, %,d rejected%n",
        accepted,
        rejected);
    assertThat(accepted).as("the fuzzer must reach the accepting paths").isGreaterThan(BUDGET / 10);
    assertThat(rejected).isGreaterThan(BUDGET / 10);
  }

  private static String name(SplittableRandom r) {
    int kind = r.nextInt(6);
    return switch (kind) {
      case 0 -> "r".repeat(250 + r.nextInt(12));
      case 1 -> "\u0800".repeat(250 + r.nextInt(12));
      case 2 -> "run-\\u00e9-" + r.nextInt(9);
      case 3 -> "a b,c=d\\\"e\\\\";
      default -> "run-" + r.nextInt(20);
    };
  }

  private static String randomRecord(SplittableRandom r) {
    StringBuilder s = new StringBuilder("{\"run\":\"").append(name(r)).append("\",\"step\":");
    s.append(
        switch (r.nextInt(5)) {
          case 0 -> String.valueOf((1L << 53) - 1 - r.nextInt(3));
          case 1 -> String.valueOf((1L << 53) + r.nextInt(3));
          default -> String.valueOf(r.nextInt(100_000));
        });
    if (r.nextBoolean()) {
      s.append(",\"task\":\"").append(name(r)).append('"');
    }
    if (r.nextInt(4) == 0) {
      s.append(",\"event\":\"")
          .append(new String[] {"run_start", "run_end", "task_start", "checkpoint"}[r.nextInt(4)])
          .append('"');
    }
    s.append(",\"metrics\":{");
    int n = r.nextInt(12);
    for (int i = 0; i < n; i++) {
      String metric =
          switch (r.nextInt(5)) {
            case 0 -> "eval/acc/" + name(r);
            case 1 -> "loss";
            case 2 -> "attn/max_logit/" + r.nextInt(40);
            default -> "m" + r.nextInt(30);
          };
      s.append(i == 0 ? "" : ",")
          .append('"')
          .append(metric)
          .append("\":")
          .append(
              r.nextInt(6) == 0
                  ? "\"NaN\""
                  : String.valueOf(r.nextDouble() * Math.pow(10, r.nextInt(20) - 10)));
    }
    s.append('}');
    if (r.nextInt(3) == 0) {
      s.append(",\"tags\":{\"dtype\":\"")
          .append(r.nextBoolean() ? "float16" : "x".repeat(1020 + r.nextInt(8)))
          .append("\",\"")
          .append(name(r))
          .append("\":\"v\"}");
    }
    return s.append('}').toString();
  }

  private static String mutate(String line, SplittableRandom r) {
    StringBuilder s = new StringBuilder(line);
    int edits = 1 + r.nextInt(3);
    for (int e = 0; e < edits && s.length() > 0; e++) {
      int at = r.nextInt(s.length());
      switch (r.nextInt(5)) {
        case 0 -> s.deleteCharAt(at);
        case 1 -> s.insert(at, PIECES[r.nextInt(PIECES.length)]);
        case 2 ->
            s.replace(
                at, Math.min(s.length(), at + 1 + r.nextInt(4)), PIECES[r.nextInt(PIECES.length)]);
        case 3 ->
            s.insert(
                at, s.substring(at, Math.min(s.length(), at + 1 + r.nextInt(40)))); // duplicates
        default -> {
          int end = Math.min(s.length(), at + r.nextInt(8));
          s.replace(at, end, String.valueOf(r.nextInt(10)));
        }
      }
    }
    return s.toString();
  }

  /**
   * Raw bytes no string holds: overlong forms, encoded surrogates, a BOM, stray continuation bytes.
   */
  private static byte[] corruptBytes(String input, SplittableRandom r) {
    byte[] b = input.getBytes(StandardCharsets.UTF_8);
    byte[][] bad = {
      {(byte) 0xC0, (byte) 0xAF},
      {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
      {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF},
      {(byte) 0x80},
      {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}
    };
    byte[] insert = bad[r.nextInt(bad.length)];
    int at = r.nextInt(b.length + 1);
    byte[] out = new byte[b.length + insert.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(b, at, out, at + insert.length, b.length - at);
    return out;
  }
}
