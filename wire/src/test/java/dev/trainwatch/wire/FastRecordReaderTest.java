package dev.trainwatch.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The fast path against the full (Jackson) parser: whatever the fast path accepts, the full parser
 * must accept as an equal record; and the fast path must actually take the common shape.
 */
class FastRecordReaderTest {

  private static final TelemetryParser PARSER = TelemetryParser.DEFAULT;
  private static final TelemetryParser.Limits LIMITS = TelemetryParser.Limits.DEFAULT;
  private static final FastRecordReader.Caches CACHES = new FastRecordReader.Caches();

  @Test
  void takesTheCommonShapeAndAgreesWithTheFullParser() {
    List<String> golden = Golden.validTelemetry();
    int fast = 0;
    for (String line : golden) {
      if (agree(line)) {
        fast++;
      }
    }
    // all but the line with sampled logits and the line with an unknown field
    assertThat(fast).isEqualTo(golden.size() - 2);
    String python =
        "{\"run\": \"grok-mlp-p97-s1\", \"step\": 1200, \"time_ms\": 1763974800123,\n"
            + " \"task\": \"t0\",\n \"metrics\": {\"loss\": 0.0123, \"grad_norm\": 0.45, \"lr\": 0.001},\n"
            + " \"tags\": {\"model\": \"mlp\", \"dtype\": \"float32\", \"optimizer\": \"adam\"}}\n";
    assertThat(agree(python)).isTrue();
  }

  @Test
  void numbersReadBitForBitAsTheFullParserReadsThem() {
    String[] numbers = {
      "0",
      "-0",
      "0.0",
      "-0.0",
      "1",
      "-17",
      "123456789012345678",
      "1234567890123456789",
      "12345678901234567890",
      "0.1",
      "0.30000000000000004",
      "1e400",
      "-1e400",
      "1E-5",
      "1e+5",
      "4.9e-324",
      "2.4e-324",
      "1.7976931348623157e308",
      "2.2250738585072011e-308",
      "3.141592653589793238462643383",
      "0.000001234",
      "9007199254740993",
      "9007199254740993.0",
      "9007199254740992.0",
      "9007199254740992e-22",
      "1e22",
      "1e23",
      "123456789e-22",
      "0.00000000000000000000001",
      "-0.0e0",
      "0e5",
      "1.5E+3",
      "-2.5e-3",
      "0.000000000000000000000000000000000000000000000001",
      "1e-99999999999",
      "1e99999999999",
      "1.00000000000000011102230246251565404236316680908203125"
    };
    int fast = 0;
    for (String n : numbers) {
      if (agree("{\"run\":\"r\",\"step\":1,\"metrics\":{\"x\":" + n + "}}")) {
        fast++;
      }
    }
    assertThat(fast)
        .as("numbers the fast path reads itself")
        .isGreaterThanOrEqualTo(numbers.length - 3);
  }

  @Test
  void leavesEveryDefectAndRareShapeToTheFullParser() {
    String[] lines = {
      "",
      "{}",
      "[]",
      "{\"run\":\"r\"}",
      "{\"step\":1}",
      "{\"run\":\"\",\"step\":1}",
      "{\"run\":\"  \",\"step\":1}",
      "{\"run\":\"r\",\"step\":-1}",
      "{\"run\":\"r\",\"step\":1.0}",
      "{\"run\":\"r\",\"step\":01}",
      "{\"run\":\"r\",\"step\":\"1\"}",
      "{\"run\":\"r\",\"step\":1,}",
      "{\"run\":\"r\",\"step\":1}x",
      "{\"run\":\"r\",\"step\":1}{}",
      "\uFEFF{\"run\":\"r\",\"step\":1}",
      "{\"run\":\"r\\u0041\",\"step\":1}",
      "{\"run\":\"r\u00e9\",\"step\":1}",
      "{\"run\":null,\"step\":1}",
      "{\"run\":\"r\",\"step\":1,\"time_ms\":-5}",
      "{\"run\":\"r\",\"step\":1,\"task\":\"\"}",
      "{\"run\":\"r\",\"step\":1,\"task\":3}",
      "{\"run\":\"r\",\"step\":1,\"event\":\"task_start\"}",
      "{\"run\":\"r\",\"step\":1,\"event\":\"boom\"}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"\":1}}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\":nan}}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\":\"nan\"}}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\":1.}}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\":.5}}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\":+1}}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\":1e}}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\":00.5}}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\":1,}}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\" 1}}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":[1]}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\":true}}",
      "{\"run\":\"r\",\"step\":1,\"tags\":{\"a\":1}}",
      "{\"run\":\"r\",\"step\":1,\"tags\":{\"a\":null}}",
      "{\"run\":\"r\",\"step\":1,\"logits\":{}}",
      "{\"run\":\"r\",\"step\":1,\"extra\":1}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\":1}",
      "{\"run\":\"r\",\"step\":1\u000b}",
      "{\"run\":\"r\",\"step\":12345678901234567890}",
    };
    for (String line : lines) {
      byte[] b = line.getBytes(StandardCharsets.UTF_8);
      TelemetryRecord fast = FastRecordReader.read(b, LIMITS, CACHES);
      if (PARSER.parseFully(b) instanceof ParseResult.Rejected) {
        assertThat(fast).as(line).isNull();
      } else {
        agree(line);
      }
    }
    // null fields are accepted once; any key twice (null or not) is a defect both paths reject
    assertThat(
            agree(
                "{\"run\":\"r\",\"task\":null,\"step\":1,\"metrics\":null,\"time_ms\":null,"
                    + "\"event\":null,\"tags\":null,\"logits\":null}"))
        .isTrue();
    String n256 = "n".repeat(256);
    assertThat(
            agree(
                "{\"run\":\""
                    + n256
                    + "\",\"task\":\""
                    + n256
                    + "\",\"step\":9007199254740991,"
                    + "\"time_ms\":9007199254740991,\"metrics\":{\""
                    + n256
                    + "\":1},\"tags\":{\""
                    + n256
                    + "\":\""
                    + "v".repeat(1024)
                    + "\"}}"))
        .as("every field at its limit")
        .isTrue();
    String[] beyond = {
      "{\"run\":\"a\",\"run\":\"b\",\"step\":2}",
      "{\"run\":\"a\",\"step\":2,\"step\":3}",
      "{\"run\":\"r\",\"task\":\"t1\",\"step\":1,\"task\":null}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\":1},\"metrics\":null}",
      "{\"run\":\"r\",\"step\":1,\"logits\":null,\"logits\":null}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"loss\":1,\"lr\":2,\"loss\":3}}",
      "{\"run\":\"r\",\"step\":1,\"tags\":{\"dtype\":\"float32\",\"dtype\":\"float16\"}}",
      "{\"run\":\"r\",\"step\":1,\"tags\":{\"\":\"x\"}}",
      "{\"run\":\"r\u007f\",\"step\":1}",
      "{\"run\":\"" + n256 + "x\",\"step\":1}",
      "{\"run\":\"r\",\"task\":\"" + n256 + "x\",\"step\":1}",
      "{\"run\":\"r\",\"step\":9007199254740992}",
      "{\"run\":\"r\",\"step\":1,\"time_ms\":9007199254740992}",
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"" + n256 + "x\":1}}",
      "{\"run\":\"r\",\"step\":1,\"tags\":{\"" + n256 + "x\":\"v\"}}",
      "{\"run\":\"r\",\"step\":1,\"tags\":{\"k\":\"" + "v".repeat(1025) + "\"}}",
    };
    for (String line : beyond) {
      byte[] b = line.getBytes(StandardCharsets.UTF_8);
      assertThat(FastRecordReader.read(b, LIMITS, CACHES)).as(line).isNull();
      assertThat(PARSER.parse(b)).as(line).isInstanceOf(ParseResult.Rejected.class);
    }
  }

  @Test
  void randomRecordsAndTheirMutationsNeverDisagree() {
    SplittableRandom random = new SplittableRandom(42);
    int fastValid = 0;
    int mutants = 0;
    int mutantsFast = 0;
    for (int i = 0; i < 3_000; i++) {
      String line = randomRecord(random);
      if (PARSER.parseFully(line.getBytes(StandardCharsets.UTF_8)) instanceof ParseResult.Parsed) {
        assertThat(agree(line)).as(line).isTrue();
        fastValid++;
      } else {
        assertThat(FastRecordReader.read(line.getBytes(StandardCharsets.UTF_8), LIMITS, CACHES))
            .as(line)
            .isNull();
      }
      for (int m = 0; m < 10; m++) {
        String mutant = mutate(line, random);
        mutants++;
        if (agree(mutant)) {
          mutantsFast++;
        }
      }
    }
    assertThat(fastValid)
        .as("valid records (the rest: a duplicate metric or a run over the limit)")
        .isBetween(2_500, 2_950);
    // many mutants stay valid (a digit changed, a space added): the fast path must keep taking
    // those
    assertThat(mutantsFast).isBetween(mutants / 20, mutants - mutants / 20);
  }

  /** Parses both ways; fails when the fast path accepts what the full parser reads differently. */
  private static boolean agree(String line) {
    byte[] b = line.getBytes(StandardCharsets.UTF_8);
    TelemetryRecord fast = FastRecordReader.read(b, LIMITS, CACHES);
    if (fast == null) {
      return false;
    }
    ParseResult full = PARSER.parseFully(b);
    assertThat(full).as(line).isInstanceOf(ParseResult.Parsed.class);
    TelemetryRecord expected = ((ParseResult.Parsed) full).record();
    assertThat(fast).as(line).isEqualTo(expected);
    for (int i = 0; i < fast.metrics().size(); i++) {
      assertThat(Double.doubleToRawLongBits(fast.metrics().value(i)))
          .as(line)
          .isEqualTo(Double.doubleToRawLongBits(expected.metrics().value(i)));
    }
    assertThat(PARSER.parse(b)).isEqualTo(new ParseResult.Parsed(fast));
    return true;
  }

  private static final String[] NAMES = {
    "loss",
    "lr",
    "grad_norm",
    "param_norm",
    "update_ratio",
    "logits/max_abs",
    "attn/max_logit/0",
    "eval/acc/t1",
    "sharpness",
    "loss_scale",
    "tokens_per_s"
  };

  private static String randomRecord(SplittableRandom r) {
    StringBuilder s = new StringBuilder();
    String sep = r.nextBoolean() ? ", " : ",";
    String colon = r.nextBoolean() ? ": " : ":";
    String run =
        r.nextInt(20) == 0
            ? "r".repeat(250 + r.nextInt(10))
            : "run-" + r.nextInt(50); // around the limit
    s.append('{').append("\"run\"").append(colon).append('"').append(run).append('"');
    s.append(sep).append("\"step\"").append(colon).append(r.nextInt(1_000_000));
    if (r.nextBoolean()) {
      s.append(sep)
          .append("\"time_ms\"")
          .append(colon)
          .append(1_763_974_800_000L + r.nextInt(1 << 30));
    }
    if (r.nextInt(4) == 0) {
      s.append(sep).append("\"task\"").append(colon).append("\"t").append(r.nextInt(5)).append('"');
    }
    s.append(sep).append("\"metrics\"").append(colon).append('{');
    int n = r.nextInt(NAMES.length + 1);
    for (int i = 0; i < n; i++) {
      s.append(i == 0 ? "" : sep)
          .append('"')
          .append(NAMES[i])
          .append('"')
          .append(colon)
          .append(randomNumber(r));
    }
    if (n > 0 && r.nextInt(20) == 0) {
      s.append(sep)
          .append('"')
          .append(NAMES[r.nextInt(n)])
          .append('"')
          .append(colon)
          .append(1); // duplicate
    }
    s.append('}');
    if (r.nextInt(8) == 0) {
      s.append(sep)
          .append("\"tags\"")
          .append(colon)
          .append("{\"dtype\"")
          .append(colon)
          .append("\"bfloat16\"}");
    }
    return s.append('}').toString();
  }

  private static String randomNumber(SplittableRandom r) {
    switch (r.nextInt(8)) {
      case 0:
        return String.valueOf(r.nextInt(2000) - 1000);
      case 1:
        return "\"NaN\"";
      case 2:
        return Double.toString(Double.longBitsToDouble(r.nextLong()))
            .replace("Infinity", "1e999")
            .replace("NaN", "0.5");
      case 3:
        return String.format(
            Locale.ROOT, "%.17g", r.nextDouble() * Math.pow(10, r.nextInt(40) - 20));
      case 4:
        return String.format(Locale.ROOT, "%.3e", (r.nextDouble() - 0.5) * 1e6);
      default:
        return Double.toString((r.nextDouble() - 0.3) * Math.pow(10, r.nextInt(12) - 6));
    }
  }

  private static final String ALPHABET = "{}[]:,\" \n\t0123456789.-+eENaIfinity\\ulr";

  private static String mutate(String line, SplittableRandom r) {
    StringBuilder s = new StringBuilder(line);
    int at = r.nextInt(s.length());
    switch (r.nextInt(4)) {
      case 0 -> s.deleteCharAt(at);
      case 1 -> s.insert(at, ALPHABET.charAt(r.nextInt(ALPHABET.length())));
      case 2 -> s.setCharAt(at, ALPHABET.charAt(r.nextInt(ALPHABET.length())));
      default -> {
        int end = Math.min(s.length(), at + 1 + r.nextInt(12));
        s.insert(r.nextInt(s.length()), s.substring(at, end));
      }
    }
    return s.toString();
  }

  @Test
  void namesRememberedByPositionNeverStandInForOthers() {
    String[] lines = {
      "{\"run\":\"r\",\"step\":1,\"metrics\":{\"loss\":1,\"grad_norm\":2}}",
      "{\"run\":\"r\",\"step\":2,\"metrics\":{\"loss_scale\":1,\"grad_norm_x\":2}}",
      "{\"run\":\"r\",\"step\":3,\"metrics\":{\"los\":1,\"grad_nor\":2}}",
      "{\"run\":\"r\",\"step\":4,\"metrics\":{\"loss\":1,\"grad_norm\":2}}",
      "{\"run\":\"r\",\"step\":5,\"metrics\":{\"loss\\u0041\":1}}",
      "{\"run\":\"r\",\"step\":6,\"metrics\":{\"attn/max_logit/layer_10\":1,\"attn/max_logit/layer_11\":2}}",
      "{\"run\":\"r\",\"step\":7,\"metrics\":{\"attn/max_logit/layer_11\":1,\"attn/max_logit/layer_10\":2}}",
    };
    for (int round = 0; round < 3; round++) {
      for (String line : lines) {
        TelemetryRecord full =
            ((ParseResult.Parsed) PARSER.parseFully(line.getBytes(StandardCharsets.UTF_8)))
                .record();
        assertThat(PARSER.parse(line)).as(line).isEqualTo(new ParseResult.Parsed(full));
      }
    }
  }

  @Test
  void metricNamesAreSharedInstances() {
    TelemetryRecord a =
        FastRecordReader.read(
            "{\"run\":\"r\",\"step\":1,\"metrics\":{\"loss\":1}}".getBytes(), LIMITS, CACHES);
    TelemetryRecord b =
        FastRecordReader.read(
            "{\"run\":\"r\",\"step\":2,\"metrics\":{\"loss\":2}}".getBytes(), LIMITS, CACHES);
    assertThat(a.metrics().name(0)).isSameAs(b.metrics().name(0)).isSameAs("loss");
    assertThat(a.run()).isSameAs(b.run());
  }

  @Test
  void eachParserHasItsOwnCaches() {
    TelemetryParser a = new TelemetryParser(LIMITS);
    TelemetryParser b = new TelemetryParser(LIMITS);
    a.parse("{\"run\":\"r\",\"step\":1,\"metrics\":{\"loss\":1,\"lr\":0.1,\"grad_norm\":2}}");

    // a's reader remembered the record's names (its shape); b, in another slot, saw nothing
    assertThat(a.fastCaches()).isNotSameAs(b.fastCaches());
    assertThat(a.fastCaches().shapes[a.fastCaches().lastShape].names())
        .containsExactly("loss", "lr", "grad_norm");
    assertThat(b.fastCaches().shapes).containsOnlyNulls();
    // and both read the same record to equal values, the names interned whichever cache decoded
    // them
    TelemetryRecord ra =
        ((ParseResult.Parsed) a.parse("{\"run\":\"r\",\"step\":2,\"metrics\":{\"loss\":1}}"))
            .record();
    TelemetryRecord rb =
        ((ParseResult.Parsed) b.parse("{\"run\":\"r\",\"step\":2,\"metrics\":{\"loss\":1}}"))
            .record();
    assertThat(ra).isEqualTo(rb);
    assertThat(ra.metrics().name(0)).isSameAs(rb.metrics().name(0)).isSameAs("loss");
  }

  /** A per-layer record: the scalars, then {@code grad_norm/layer.<i>} for each layer, in order. */
  private static String wide(long step, int layers, String... extra) {
    StringBuilder sb =
        new StringBuilder("{\"run\":\"r\",\"step\":" + step + ",\"metrics\":{\"loss\":1.5");
    for (int i = 0; i < layers; i++) {
      sb.append(",\"grad_norm/layer.").append(i).append("\":").append(i * 0.25);
    }
    for (String e : extra) {
      sb.append(",\"").append(e).append("\":7");
    }
    return sb.append("}}").toString();
  }

  @Test
  void recordsOfOneShapeShareTheirNamesAndEveryOtherShapeReadsAsTheFullParserReadsIt() {
    TelemetryRecord a =
        FastRecordReader.read(wide(1, 500).getBytes(StandardCharsets.US_ASCII), LIMITS, CACHES);
    TelemetryRecord b =
        FastRecordReader.read(wide(2, 500).getBytes(StandardCharsets.US_ASCII), LIMITS, CACHES);
    assertThat(b.metrics().names()).isSameAs(a.metrics().names()); // one name index for the shape
    assertThat(b.metrics().get("grad_norm/layer.417")).isEqualTo(417 * 0.25);
    assertThat(b.metrics().get("grad_norm/layer.500")).isNaN();
    String longName = "x".repeat(200); // beyond the name cache, still part of a shape
    String[] lines = {
      wide(3, 499), // a prefix of the shape
      wide(4, 500, "sharpness"), // the shape and one more
      wide(5, 500, "grad_norm/layer.7"), // the shape and a duplicate: the full parser rejects it
      wide(6, 250, "grad_norm/layer.3"), // a duplicate within the shape's prefix
      wide(7, 300)
          .replace("grad_norm/layer.150\"", "grad_norm/layer.15\""), // one name differs mid-way
      wide(8, 500, longName),
      wide(9, 500, longName),
      wide(10, 500),
      wide(11, 40),
      wide(12, 500),
    };
    for (int round = 0; round < 2; round++) {
      for (String line : lines) {
        ParseResult full = PARSER.parseFully(line.getBytes(StandardCharsets.UTF_8));
        assertThat(PARSER.parse(line)).as(line.substring(0, 40)).isEqualTo(full);
      }
    }
    assertThat(PARSER.parse(wide(13, 500, "grad_norm/layer.7")))
        .isInstanceOf(ParseResult.Rejected.class);
    // a parser of tighter limits never takes a name from a shape another parser saw
    TelemetryParser.Limits tight =
        new TelemetryParser.Limits(4 << 20, 4096, 1024, 1 << 16, 100, 64, 1024, (1L << 53) - 1);
    assertThat(
            FastRecordReader.read(
                wide(14, 500, longName).getBytes(StandardCharsets.US_ASCII), tight, CACHES))
        .isNull();
    assertThat(
            FastRecordReader.read(
                wide(15, 500, longName).getBytes(StandardCharsets.US_ASCII), LIMITS, CACHES))
        .isNotNull();
  }

  @Test
  void theNameIndexOfAWideRecordFindsWhatALinearScanFinds() {
    String[] names = new String[300];
    double[] values = new double[300];
    for (int i = 0; i < names.length; i++) {
      names[i] = "attn/max_logit/layer." + i;
      values[i] = i;
    }
    Metrics m = new Metrics(names, values);
    for (int i = 0; i < names.length; i++) {
      assertThat(m.indexOf(new String(names[i]))).isEqualTo(i); // equal, not the same instance
    }
    assertThat(m.indexOf("attn/max_logit/layer.300")).isEqualTo(-1);
    assertThat(m.get("loss")).isNaN();
    names[5] = names[7]; // a hand-built duplicate: no index, the scan finds the first
    Metrics dup = new Metrics(names.clone(), values);
    assertThat(dup.indexOf(names[7])).isEqualTo(5);
  }
}
