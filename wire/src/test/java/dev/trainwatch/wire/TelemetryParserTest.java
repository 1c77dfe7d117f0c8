package dev.trainwatch.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class TelemetryParserTest {

  private final TelemetryParser parser = TelemetryParser.DEFAULT;

  @Test
  void acceptsEveryGoldenValidLine() {
    List<String> lines = Golden.validTelemetry();
    assertThat(lines).hasSize(7);
    for (String line : lines) {
      assertThat(parser.parse(line)).as(line).isInstanceOf(ParseResult.Parsed.class);
    }
  }

  @Test
  void readsAllFieldsOfAFullRecord() {
    TelemetryRecord r = parsed(Golden.validTelemetry().get(0));
    assertThat(r.run()).isEqualTo("golden-sc-s1");
    assertThat(r.step()).isZero();
    assertThat(r.timeMs()).isEqualTo(1763974800123L);
    assertThat(r.event()).isEqualTo("run_start");
    assertThat(r.metrics().size()).isEqualTo(10);
    assertThat(r.metrics().get("logits/lse_mean")).isEqualTo(4.607);
    assertThat(r.tags().get("dtype")).isEqualTo("float32");
    assertThat(r.logits()).isNull();
  }

  @Test
  void readsNonFiniteStringsAsIeeeValues() {
    TelemetryRecord r = parsed(Golden.validTelemetry().get(2));
    assertThat(r.metrics().get("loss")).isNaN();
    assertThat(r.metrics().get("grad_norm")).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(r.metrics().get("loss_scale")).isEqualTo(Double.NEGATIVE_INFINITY);
    assertThat(r.timeMs()).isEqualTo(-1);
  }

  @Test
  void readsSampledLogitsExactlyAsFloat32() {
    TelemetryRecord r = parsed(Golden.validTelemetry().get(1));
    assertThat(r.logits().dtype()).isEqualTo("float32");
    assertThat(r.logits().labels()).containsExactly(3, 1);
    assertThat(r.logits().rows()[1]).containsExactly(0.1, 31.0, -2.5, 0.0);
  }

  @Test
  void ignoresUnknownFieldsAndKeepsTaskAndEvent() {
    TelemetryRecord r = parsed(Golden.validTelemetry().get(5));
    assertThat(r.event()).isEqualTo("checkpoint");
    TelemetryRecord t = parsed(Golden.validTelemetry().get(3));
    assertThat(t.task()).isEqualTo("t1");
    assertThat(t.isEvent(TelemetryRecord.TASK_START)).isTrue();
  }

  static Stream<Golden.InvalidLine> invalid() {
    return Golden.invalidTelemetry().stream();
  }

  @ParameterizedTest
  @MethodSource("invalid")
  void rejectsInvalidLineNamingTheField(Golden.InvalidLine bad) {
    ParseResult result = parser.parse(bad.line());
    assertThat(result).isInstanceOf(ParseResult.Rejected.class);
    assertThat(((ParseResult.Rejected) result).reason()).contains(bad.expectedReason());
  }

  @Test
  void rejectedLineKeepsTheRunWhenItWasReadable() {
    ParseResult result = parser.parse("{\"run\":\"r9\",\"step\":-1}");
    assertThat(((ParseResult.Rejected) result).run()).isEqualTo("r9");
  }

  @Test
  void rejectsOversizedRecordWithoutParsing() {
    TelemetryParser small = new TelemetryParser(new TelemetryParser.Limits(64, 10, 10, 10));
    ParseResult result =
        small.parse(
            "{\"run\":\"x\",\"step\":1,\"metrics\":{\"a_long_name\":1.0,\"another_long_name\":2.0}}");
    assertThat(((ParseResult.Rejected) result).reason()).contains("exceeds the limit of 64");
  }

  @Test
  void writerRoundTripsEveryGoldenRecord() {
    for (String line : Golden.validTelemetry()) {
      TelemetryRecord r = parsed(line);
      assertThat(parsed(new String(TelemetryJson.toBytes(r), StandardCharsets.UTF_8))).isEqualTo(r);
    }
  }

  @Test
  void peekRunFindsTheRunWherePresentAndNothingOtherwise() {
    byte[] b =
        "{\"metrics\":{\"loss\":1},\"tags\":{\"run\":\"no\"},\"run\":\"r7\",\"step\":-1}"
            .getBytes();
    assertThat(parser.peekRun(b)).isEqualTo("r7");
    for (String line : Golden.validTelemetry()) {
      assertThat(parser.peekRun(line.getBytes())).isEqualTo(parsed(line).run());
    }
    assertThat(parser.peekRun("{\"run\":7}".getBytes())).isNull();
    assertThat(parser.peekRun("{\"run\":".getBytes())).isNull();
    assertThat(parser.peekRun("[1]".getBytes())).isNull();
    assertThat(parser.peekRun(new byte[0])).isNull();
  }

  private TelemetryRecord parsed(String line) {
    ParseResult result = parser.parse(line);
    assertThat(result).as(line).isInstanceOf(ParseResult.Parsed.class);
    return ((ParseResult.Parsed) result).record();
  }
}
