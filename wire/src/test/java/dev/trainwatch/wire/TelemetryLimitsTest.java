package dev.trainwatch.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The limits every ingest path and the job share (issue 14, rows 1, 4 and 10): each one rejects
 * with the limit in the reason, on both paths of the parser, and nothing is accepted that names a
 * run differently in its key and its record.
 */
class TelemetryLimitsTest {

  private static final TelemetryParser PARSER = TelemetryParser.DEFAULT;
  private static final TelemetryParser.Limits L = TelemetryParser.Limits.DEFAULT;

  @Test
  void aRunOverTheLimitIsRejectedWithTheLimitWhereItUsedToPassAndStopCheckpointing() {
    // 65,536 bytes: writeUTF's limit plus one, the record that used to fail every checkpoint
    String huge = "r".repeat(65_536);
    assertThat(reason("{\"run\":\"" + huge + "\",\"step\":1}"))
        .isEqualTo("field 'run': 65536 characters exceed the limit of 256");
    assertThat(reason("{\"run\":\"r\",\"step\":1,\"task\":\"" + huge + "\"}"))
        .isEqualTo("field 'task': 65536 characters exceed the limit of 256");
    assertThat(reason("{\"run\":\"r\",\"step\":1,\"tags\":{\"dtype\":\"" + huge + "\"}}"))
        .isEqualTo("field 'tags.dtype': 65536 characters exceed the limit of 1024");
    // names (a task's eval metric names it too) beyond Jackson's own 50,000 are "unreadable" there
    String long1000 = "r".repeat(1000);
    assertThat(reason("{\"run\":\"r\",\"step\":1,\"metrics\":{\"eval/acc/" + long1000 + "\":1}}"))
        .startsWith("field 'metrics.eval/acc/rrrr")
        .endsWith("1009 characters exceed the limit of 256");
    assertThat(reason("{\"run\":\"r\",\"step\":1,\"tags\":{\"" + long1000 + "\":\"v\"}}"))
        .endsWith("1000 characters exceed the limit of 256");
    StringBuilder tags = new StringBuilder("{\"run\":\"r\",\"step\":1,\"tags\":{");
    for (int i = 0; i <= L.maxTags(); i++) {
      tags.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":\"v\"");
    }
    assertThat(reason(tags.append("}}").toString())).isEqualTo("field 'tags': more than 64 tags");
    // exactly at the limits: accepted
    String at =
        "{\"run\":\"" + "r".repeat(256) + "\",\"step\":1,\"task\":\"" + "t".repeat(256) + "\"}";
    assertThat(PARSER.parse(at)).isInstanceOf(ParseResult.Parsed.class);
  }

  @Test
  void aStepOrTimeBeyondTwoToTheFiftyThreeIsRejectedWithTheLimit() {
    assertThat(reason("{\"run\":\"r\",\"step\":9223372036854775807}"))
        .isEqualTo("field 'step': 9223372036854775807 exceeds the limit of 9007199254740991");
    assertThat(reason("{\"run\":\"r\",\"step\":9007199254740992}"))
        .isEqualTo("field 'step': 9007199254740992 exceeds the limit of 9007199254740991");
    assertThat(reason("{\"run\":\"r\",\"step\":1,\"time_ms\":9007199254740992}"))
        .isEqualTo("field 'time_ms': 9007199254740992 exceeds the limit of 9007199254740991");
    assertThat(PARSER.parse("{\"run\":\"r\",\"step\":9007199254740991}"))
        .isInstanceOf(ParseResult.Parsed.class);
  }

  @Test
  void duplicateKeysAreRejectedAtEveryLevelAndPeekRunAgreesWithTheParser() {
    // the record that went out keyed (and alerted) as one run while the parser read another
    String twoRuns = "{\"run\":\"victim\",\"step\":1,\"run\":\"attacker\"}";
    assertThat(reason(twoRuns)).contains("Duplicate").contains("run");
    assertThat(PARSER.peekRun(twoRuns.getBytes(StandardCharsets.UTF_8))).isEqualTo("victim");
    assertThat(((ParseResult.Rejected) PARSER.parse(twoRuns)).run()).isEqualTo("victim");
    assertThat(reason("{\"run\":\"r\",\"step\":1,\"step\":2}"))
        .contains("Duplicate")
        .contains("step");
    assertThat(reason("{\"run\":\"r\",\"step\":1,\"metrics\":{\"loss\":1,\"loss\":2}}"))
        .contains("Duplicate")
        .contains("loss");
    assertThat(reason("{\"run\":\"r\",\"step\":1,\"tags\":{\"dtype\":\"a\",\"dtype\":\"b\"}}"))
        .contains("Duplicate");
    assertThat(reason("{\"run\":\"r\",\"step\":1,\"x\":{\"a\":1,\"a\":2}}")).contains("Duplicate");
    // peekRun never names a run for a record the parser would key elsewhere
    for (String line : Golden.validTelemetry()) {
      ParseResult.Parsed p = (ParseResult.Parsed) PARSER.parse(line);
      assertThat(PARSER.peekRun(line.getBytes(StandardCharsets.UTF_8))).isEqualTo(p.record().run());
    }
  }

  @Test
  void controlCharactersAndUnpairedSurrogatesInNamesAreRejected() {
    assertThat(reason("{\"run\":\"a\\nb\",\"step\":1}"))
        .isEqualTo("field 'run': control character U+000A at index 1");
    assertThat(reason("{\"run\":\"r\",\"step\":1,\"task\":\"t\\u0000\"}"))
        .isEqualTo("field 'task': control character U+0000 at index 1");
    assertThat(reason("{\"run\":\"r\\ud800\",\"step\":1}"))
        .isEqualTo("field 'run': unpaired surrogate U+D800 at index 1");
    assertThat(reason("{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\\tb\":1}}"))
        .contains("control character U+0009");
    assertThat(reason("{\"run\":\"r\",\"step\":1,\"tags\":{\"k\":\"v\\r\"}}"))
        .contains("field 'tags.k': control character U+000D");
    // InfluxDB 1.x drops a tag ending in a backslash, and mangles one before a space, comma or '='
    assertThat(reason("{\"run\":\"ends\\\\\",\"step\":1}"))
        .startsWith("field 'run': backslash at index 4");
    assertThat(reason("{\"run\":\"r\",\"step\":1,\"metrics\":{\"a\\\\ b\":1}}"))
        .contains("backslash at index 1");
    assertThat(PARSER.parse("{\"run\":\"r\",\"step\":1,\"tags\":{\"path\":\"C:\\\\runs\\\\\"}}"))
        .as("tag values are stored as strings, where a backslash is escaped")
        .isInstanceOf(ParseResult.Parsed.class);
    // a real pair, escaped or raw, is a valid character
    assertThat(PARSER.parse("{\"run\":\"r\\ud83d\\ude00\",\"step\":1}"))
        .isInstanceOf(ParseResult.Parsed.class);
    assertThat(PARSER.parse("{\"run\":\"r\uD83D\uDE00 ü\",\"step\":1}"))
        .isInstanceOf(ParseResult.Parsed.class);
  }

  @Test
  void invalidUtf8IsRejectedWithASpecificReason() {
    assertThat(bytesReason(bytes(0xEF, 0xBB, 0xBF), "{\"run\":\"r\",\"step\":1}"))
        .isEqualTo(
            "invalid encoding: a UTF-8 byte-order mark (EF BB BF) at the start; send UTF-8 without a BOM");
    // overlong '/' (C0 AF) and overlong NUL (C0 80), in a run name
    assertThat(bytesReason(null, "{\"run\":\"a", 0xC0, 0xAF, "\",\"step\":1}"))
        .isEqualTo("invalid UTF-8 at byte 9: overlong 2-byte encoding of U+002F");
    assertThat(bytesReason(null, "{\"run\":\"a", 0xE0, 0x80, 0x80, "\",\"step\":1}"))
        .isEqualTo("invalid UTF-8 at byte 9: overlong 3-byte encoding of U+0000");
    // CESU-style surrogate U+D800
    assertThat(bytesReason(null, "{\"run\":\"a", 0xED, 0xA0, 0x80, "\",\"step\":1}"))
        .isEqualTo("invalid UTF-8 at byte 9: surrogate U+D800 encoded in UTF-8");
    assertThat(bytesReason(null, "{\"run\":\"a", 0x80, "\",\"step\":1}"))
        .isEqualTo("invalid UTF-8 at byte 9: unexpected continuation byte 0x80");
    assertThat(bytesReason(null, "{\"run\":\"a", 0xC3, "\",\"step\":1}"))
        .isEqualTo(
            "invalid UTF-8 at byte 9: truncated 2-byte sequence (byte 0x22 is not a continuation byte)");
    assertThat(bytesReason(null, "{\"run\":\"a", 0xF4, 0x90, 0x80, 0x80, "\",\"step\":1}"))
        .isEqualTo("invalid UTF-8 at byte 9: code point U+110000 above U+10FFFF");
    assertThat(bytesReason(null, "{\"run\":\"a", 0xFF, "\",\"step\":1}"))
        .isEqualTo("invalid UTF-8 at byte 9: byte 0xFF never occurs in UTF-8");
    assertThat(bytesReason(null, "{\"run\":\"a\",\"step\":1}", 0xE2, 0x82))
        .isEqualTo("invalid UTF-8 at byte 20: truncated 3-byte sequence at the end");
    // the largest valid code points of each length pass
    assertThat(
            PARSER.parse(
                concat(
                    null,
                    "{\"run\":\"",
                    0xDF,
                    0xBF,
                    0xEF,
                    0xBF,
                    0xBF,
                    0xF4,
                    0x8F,
                    0xBF,
                    0xBF,
                    "\",\"step\":1}")))
        .isInstanceOf(ParseResult.Parsed.class);
  }

  private static String reason(String line) {
    ParseResult r = PARSER.parse(line);
    assertThat(r)
        .as(line.length() > 200 ? line.substring(0, 200) : line)
        .isInstanceOf(ParseResult.Rejected.class);
    assertThat(
            FastRecordReader.read(
                line.getBytes(StandardCharsets.UTF_8), L, new FastRecordReader.Caches()))
        .isNull();
    return ((ParseResult.Rejected) r).reason();
  }

  private static String bytesReason(byte[] prefix, Object... parts) {
    byte[] b = concat(prefix, parts);
    ParseResult r = PARSER.parse(b);
    assertThat(r).isInstanceOf(ParseResult.Rejected.class);
    return ((ParseResult.Rejected) r).reason();
  }

  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  private static byte[] concat(byte[] prefix, Object... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (prefix != null) {
      out.writeBytes(prefix);
    }
    for (Object p : parts) {
      if (p instanceof String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
      } else {
        out.write((Integer) p);
      }
    }
    return out.toByteArray();
  }
}
