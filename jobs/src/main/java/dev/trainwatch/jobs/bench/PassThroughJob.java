package dev.trainwatch.jobs.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.trainwatch.jobs.flink.RawTelemetry;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

/**
 * The baseline the detection job is measured against: the same topic and source, JSON read
 * just far enough to find the run, keyBy(run), one ValueState counter per run, discard.
 * Everything trainwatch does beyond this (full validation, detectors, alert sink) is the
 * cost the benchmark's ratio shows.
 */
final class PassThroughJob {

  private PassThroughJob() {}

  static void build(StreamExecutionEnvironment env, Source<RawTelemetry, ?, ?> source) {
    env.fromSource(source, WatermarkStrategy.noWatermarks(), "telemetry")
        .map(PassThroughJob::run).returns(Types.STRING)
        .keyBy(r -> r)
        .process(new Count())
        .sinkTo(new DiscardingSink<>());
  }

  private static final JsonFactory JSON = new JsonFactory();

  static String run(RawTelemetry raw) throws java.io.IOException {
    try (JsonParser p = JSON.createParser(raw.value())) {
      while (p.nextToken() != null) {
        if (p.currentToken() == JsonToken.FIELD_NAME && "run".equals(p.currentName())) {
          p.nextToken();
          return p.getText();
        }
      }
    }
    return "";
  }

  static final class Count extends KeyedProcessFunction<String, String, Long> {
    private transient ValueState<Long> count;

    @Override
    public void open(OpenContext ctx) {
      count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
    }

    @Override
    public void processElement(String run, Context ctx, Collector<Long> out) throws Exception {
      Long c = count.value();
      count.update(c == null ? 1 : c + 1);
    }
  }
}
