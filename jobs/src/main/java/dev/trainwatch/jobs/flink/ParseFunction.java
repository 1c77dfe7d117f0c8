package dev.trainwatch.jobs.flink;

import dev.trainwatch.wire.DeadLetter;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryParser;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Validates raw telemetry per FORMAT.md. Valid records go on; anything else goes to the
 * {@link #DEAD_LETTERS} side output with the parser's reason, and is counted in the
 * {@code malformedRecords} metric. Never throws on input, so bad data cannot fail the job.
 */
public final class ParseFunction extends ProcessFunction<RawTelemetry, dev.trainwatch.wire.TelemetryRecord> {

  private static final long serialVersionUID = 1L;

  public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

  private transient Counter malformed;
  private transient Counter parsed;

  @Override
  public void open(OpenContext ctx) {
    malformed = getRuntimeContext().getMetricGroup().counter("malformedRecords");
    parsed = getRuntimeContext().getMetricGroup().counter("parsedRecords");
  }

  @Override
  public void processElement(RawTelemetry raw, Context ctx, Collector<dev.trainwatch.wire.TelemetryRecord> out) {
    ParseResult result = TelemetryParser.DEFAULT.parse(raw.value());
    if (result instanceof ParseResult.Parsed p) {
      parsed.inc();
      out.collect(p.record());
    } else if (result instanceof ParseResult.Rejected r) {
      malformed.inc();
      ctx.output(DEAD_LETTERS, new DeadLetter(r.reason(), r.run(), raw.origin(),
          new String(raw.value(), StandardCharsets.UTF_8), System.currentTimeMillis()));
    }
  }
}
