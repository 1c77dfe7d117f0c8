package dev.trainwatch.jobs.bench;

import dev.trainwatch.jobs.flink.RawTelemetry;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

/**
 * The baseline the detection job is measured against: the same topic, source and deserializer
 * (which reads the JSON just far enough to find the run), keyBy(run), one ValueState counter per
 * run, discard. Everything trainwatch does beyond this (full validation, detectors, alert sink) is
 * the cost the benchmark's ratio shows.
 */
final class PassThroughJob {

  private PassThroughJob() {}

  static void build(StreamExecutionEnvironment env, Source<RawTelemetry, ?, ?> source) {
    env.fromSource(source, WatermarkStrategy.noWatermarks(), "telemetry")
        .keyBy(RawTelemetry::run)
        .process(new Count())
        .map(new ThroughputProbe<>("pass"))
        .returns(Types.LONG)
        .sinkTo(new DiscardingSink<>());
  }

  static final class Count extends KeyedProcessFunction<String, RawTelemetry, Long> {
    private transient ValueState<Long> count;

    @Override
    public void open(OpenContext ctx) {
      count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
    }

    @Override
    public void processElement(RawTelemetry raw, Context ctx, Collector<Long> out)
        throws Exception {
      Long c = count.value();
      long n = c == null ? 1 : c + 1;
      count.update(n);
      out.collect(n);
    }
  }
}
