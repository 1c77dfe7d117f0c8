package dev.trainwatch.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The binary form of the internal topic: every golden record and every record of every public trace
 * round-trips bit for bit; the decoder validates as the JSON parser does and never throws; JSON and
 * binary are told apart by the first byte.
 */
class TelemetryBinaryTest {

  static final Path TRACES =
      Path.of(System.getProperty("trainwatch.shared", "../../shared"), "eval", "traces");

  private final TelemetryBinary.Encoder encoder = new TelemetryBinary.Encoder();
  private final TelemetryBinary.Decoder decoder =
      new TelemetryBinary.Decoder(TelemetryParser.Limits.DEFAULT);

  @Test
  void everyGoldenRecordRoundTripsBitForBit() {
    List<String> golden = Golden.validTelemetry();
    for (String line : golden) {
      byte[] json = line.getBytes(StandardCharsets.UTF_8);
      assertThat(TelemetryBinary.isBinary(json)).isFalse();
      roundTrip(parsed(json));
    }
  }

  @Test
  void everyRecordOfEveryPublicTraceRoundTripsBitForBit() {
    List<Path> traces = TraceFiles.resolve(List.of(TRACES));
    assertThat(traces).hasSizeGreaterThanOrEqualTo(30);
    long[] n = {0, 0, 0};
    for (Path p : traces) {
      TraceFiles.forEachLine(
          p,
          line -> {
            byte[] json = line.getBytes(StandardCharsets.UTF_8);
            if (TelemetryParser.DEFAULT.parse(json) instanceof ParseResult.Parsed pr) {
              byte[] binary = roundTrip(pr.record());
              n[0]++;
              n[1] += json.length;
              n[2] += binary.length;
            }
          });
    }
    assertThat(n[0]).isGreaterThan(50_000);
    assertThat(n[2]).isLessThan(n[1]); // and smaller
  }

  @Test
  void wideNonFiniteNonAsciiAndLogitRecordsRoundTrip() {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss", Double.NaN);
    m.put("grad_norm", Double.POSITIVE_INFINITY);
    m.put("loss_scale", Double.NEGATIVE_INFINITY);
    m.put("zero", -0.0);
    m.put("tiny", Double.MIN_VALUE);
    m.put("huge", Double.MAX_VALUE);
    m.put("\u00e9t\u00e9/\u4e2d\ud83d\ude00", 1.5);
    for (int f = 0; f < 4; f++) {
      for (int l = 0; l < 300; l++) {
        m.put("family" + f + "/layer." + l, l * 0.1 + f);
      }
    }
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put("model", "caf\u00e9");
    tags.put("note", "a value with spaces, commas = and \\ backslashes");
    LogitsSample logits =
        new LogitsSample(
            "float32",
            new int[] {2, 0},
            new double[][] {{1.0f, -2.5f, 31.0f}, {0.1, Double.NaN, Double.NEGATIVE_INFINITY}});
    TelemetryRecord r =
        new TelemetryRecord(
            "r\u00fcn-\ud83d\ude80",
            (1L << 53) - 1,
            0,
            "t\u00e2che",
            TelemetryRecord.TASK_START,
            Metrics.of(m),
            Tags.of(tags),
            logits);
    byte[] b = roundTrip(r);
    assertThat(TelemetryBinary.peekRun(b)).isEqualTo(r.run());
    // the same shape again: found by its names block, the same validated names array
    TelemetryRecord again = ((ParseResult.Parsed) decoder.decode(b)).record();
    assertThat(again.metrics().names())
        .isSameAs(((ParseResult.Parsed) decoder.decode(b)).record().metrics().names());
    // every JSON path agrees: what binary carries, JSON carries as an equal record
    assertSame(parsed(TelemetryJson.toBytes(again)), r);
    assertThat(b.length).isLessThan(TelemetryJson.toBytes(r).length / 2);
  }

  @Test
  void valuesAFloatHoldsExactlyTakeFourBytes() {
    String[] names = new String[100];
    double[] floats = new double[100];
    double[] doubles = new double[100];
    for (int i = 0; i < 100; i++) {
      names[i] = "grad_norm/layer." + i;
      floats[i] = (float) (0.01 * i + 1e-3); // as a tensor's .item() gives them
      doubles[i] = 0.01 * i + 1e-3;
    }
    floats[7] = 0.1; // one double among them
    byte[] narrow = roundTrip(TelemetryRecord.of("a", 1, new Metrics(names, floats)));
    byte[] wide = roundTrip(TelemetryRecord.of("a", 1, new Metrics(names, doubles)));
    assertThat(wide.length - narrow.length).isEqualTo(99 * 4 - (100 + 7) / 8);
  }

  @Test
  void firstByteTellsJsonFromBinary() {
    assertThat(TelemetryBinary.isBinary(" {\"run\":\"a\"}".getBytes())).isFalse();
    assertThat(TelemetryBinary.isBinary("\n{".getBytes())).isFalse();
    assertThat(TelemetryBinary.isBinary(new byte[0])).isFalse();
    assertThat(TelemetryBinary.isBinary(null)).isFalse();
    byte[] b = encoder.encode(TelemetryRecord.of("a", 1, Metrics.EMPTY));
    assertThat(TelemetryBinary.isBinary(b)).isTrue();
    // the JSON parser rejects binary (a stray byte is never taken for JSON)
    assertThat(TelemetryParser.DEFAULT.parse(b)).isInstanceOf(ParseResult.Rejected.class);
    assertThat(TelemetryParser.DEFAULT.peekRun(b)).isNull();
  }

  @Test
  void decoderValidatesAsTheJsonParserDoes() {
    assertRejected(TelemetryRecord.of("a\nb", 1, Metrics.EMPTY), "control character");
    assertRejected(TelemetryRecord.of("a\\b", 1, Metrics.EMPTY), "backslash");
    assertRejected(TelemetryRecord.of(" ", 1, Metrics.EMPTY), "non-empty");
    assertRejected(TelemetryRecord.of("x".repeat(257), 1, Metrics.EMPTY), "exceed");
    assertRejected(TelemetryRecord.of("a", 1L << 53, Metrics.EMPTY), "step");
    assertRejected(
        TelemetryRecord.of("a", 1, new Metrics(new String[] {"x", "x"}, new double[2])),
        "duplicate");
    assertRejected(
        TelemetryRecord.of("a", 1, new Metrics(new String[] {""}, new double[1])), "non-empty");
    assertRejected(
        TelemetryRecord.of("a", 1, new Metrics(new String[] {"a\u0001"}, new double[1])),
        "control character");
    assertRejected(manyMetrics(5000), "more than 4096");
    assertRejected(
        new TelemetryRecord(
            "a", 1, -1, null, TelemetryRecord.TASK_START, null, null, null), // no task
        "requires the field 'task'");
    assertRejected(
        new TelemetryRecord(
            "a",
            1,
            -1,
            null,
            null,
            null,
            new Tags(new String[] {"k", "k"}, new String[] {"1", "2"}),
            null),
        "duplicate tag");
    assertRejected(
        new TelemetryRecord(
            "a",
            1,
            -1,
            null,
            null,
            null,
            null,
            new LogitsSample("float32", new int[] {3}, new double[][] {{1, 2}})),
        "label out of range");
    byte[] b = encoder.encode(TelemetryRecord.of("a", 1, Metrics.EMPTY));
    b[1] = 2;
    assertThat(decoder.decode(b))
        .isInstanceOfSatisfying(
            ParseResult.Rejected.class,
            r -> assertThat(r.reason()).contains("unsupported version 2"));
  }

  @Test
  void damagedRecordsAreRejectedNeverThrownAndNeverLetThroughWhatJsonWouldReject() {
    List<byte[]> samples = new ArrayList<>();
    for (String line : Golden.validTelemetry()) {
      samples.add(encoder.encode(parsed(line.getBytes(StandardCharsets.UTF_8))));
    }
    SplittableRandom random = new SplittableRandom(19);
    int accepted = 0;
    for (byte[] s : samples) {
      for (int cut = 0; cut < s.length; cut++) {
        assertThat(decoder.decode(Arrays.copyOf(s, cut))).isInstanceOf(ParseResult.Rejected.class);
      }
      for (int i = 0; i < 3000; i++) {
        byte[] d = s.clone();
        for (int k = 1 + random.nextInt(3); k > 0; k--) {
          d[1 + random.nextInt(d.length - 1)] = (byte) random.nextInt(256);
        }
        d[1] = TelemetryBinary.VERSION;
        ParseResult r = new TelemetryBinary.Decoder(TelemetryParser.Limits.DEFAULT).decode(d);
        if (r instanceof ParseResult.Parsed p) {
          accepted++;
          // whatever binary admits, the JSON parser admits too
          parsed(TelemetryJson.toBytes(p.record()));
        }
      }
    }
    assertThat(accepted).isPositive(); // flipped values and steps still decode
  }

  @Test
  void fastRunPeekAgreesWithJackson() {
    List<String> lines = new ArrayList<>(Golden.validTelemetry());
    Golden.invalidTelemetry().forEach(l -> lines.add(l.line()));
    lines.add(" \n{ \"run\" :\t\"spaced\", \"step\": 1}");
    lines.add("{\"run\":\"esc\\\"aped\",\"step\":1}");
    lines.add("{\"step\":1,\"run\":\"second\"}");
    lines.add("{\"run\":\"caf\u00e9\",\"step\":1}");
    lines.add("{\"run\":17}");
    lines.add("{\"run\":\"unterminated");
    int fast = 0;
    for (String line : lines) {
      byte[] b = line.getBytes(StandardCharsets.UTF_8);
      String jackson = TelemetryParser.DEFAULT.peekRunFully(b);
      String quick = TelemetryParser.peekLeadingRun(b);
      if (quick != null) {
        fast++;
        assertThat(quick).as(line).isEqualTo(jackson);
      }
      assertThat(TelemetryParser.DEFAULT.peekRun(b)).as(line).isEqualTo(jackson);
    }
    assertThat(fast).isGreaterThan(lines.size() / 2);
  }

  private static TelemetryRecord manyMetrics(int n) {
    String[] names = new String[n];
    for (int i = 0; i < n; i++) {
      names[i] = "m" + i;
    }
    return TelemetryRecord.of("a", 1, new Metrics(names, new double[n]));
  }

  private void assertRejected(TelemetryRecord r, String reason) {
    ParseResult result = decoder.decode(encoder.encode(r));
    assertThat(result)
        .as(r.toString())
        .isInstanceOfSatisfying(
            ParseResult.Rejected.class, rej -> assertThat(rej.reason()).contains(reason));
    // the JSON form of the same record is rejected too
    assertThat(TelemetryParser.DEFAULT.parse(TelemetryJson.toBytes(r)))
        .isInstanceOf(ParseResult.Rejected.class);
  }

  private static TelemetryRecord parsed(byte[] json) {
    ParseResult r = TelemetryParser.DEFAULT.parse(json);
    if (r instanceof ParseResult.Parsed p) {
      return p.record();
    }
    return fail("not valid: " + new String(json, StandardCharsets.UTF_8) + ": " + r);
  }

  private byte[] roundTrip(TelemetryRecord r) {
    byte[] b = encoder.encode(r);
    assertThat(TelemetryBinary.isBinary(b)).isTrue();
    assertThat(TelemetryBinary.peekRun(b)).isEqualTo(r.run());
    ParseResult d = decoder.decode(b);
    assertThat(d).as(r.toString()).isInstanceOf(ParseResult.Parsed.class);
    assertSame(((ParseResult.Parsed) d).record(), r);
    // a fresh decoder (no shapes known) reads the same
    assertSame(
        ((ParseResult.Parsed) new TelemetryBinary.Decoder(TelemetryParser.Limits.DEFAULT).decode(b))
            .record(),
        r);
    return b;
  }

  /** Equal in every field, doubles compared by their raw bits. */
  static void assertSame(TelemetryRecord a, TelemetryRecord e) {
    assertThat(a.run()).isEqualTo(e.run());
    assertThat(a.step()).isEqualTo(e.step());
    assertThat(a.timeMs()).isEqualTo(e.timeMs());
    assertThat(a.task()).isEqualTo(e.task());
    assertThat(a.event()).isEqualTo(e.event());
    assertThat(a.metrics().names()).containsExactly(e.metrics().names());
    assertThat(bits(a.metrics().values())).containsExactly(bits(e.metrics().values()));
    assertThat(a.tags().names()).containsExactly(e.tags().names());
    assertThat(a.tags().values()).containsExactly(e.tags().values());
    if (e.logits() == null) {
      assertThat(a.logits()).isNull();
    } else {
      assertThat(a.logits().dtype()).isEqualTo(e.logits().dtype());
      assertThat(a.logits().labels()).containsExactly(e.logits().labels());
      assertThat(a.logits().rows().length).isEqualTo(e.logits().rows().length);
      for (int i = 0; i < e.logits().rows().length; i++) {
        assertThat(bits(a.logits().rows()[i])).containsExactly(bits(e.logits().rows()[i]));
      }
    }
  }

  private static long[] bits(double[] v) {
    long[] b = new long[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = Double.doubleToRawLongBits(v[i]);
    }
    return b;
  }
}
