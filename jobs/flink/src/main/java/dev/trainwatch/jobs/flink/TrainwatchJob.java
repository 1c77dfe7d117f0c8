package dev.trainwatch.jobs.flink;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.storage.DetectorMetric;
import dev.trainwatch.jobs.storage.InfluxSinkConfig;
import dev.trainwatch.jobs.storage.StorageTopology;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.DeadLetter;
import dev.trainwatch.wire.TelemetryRecord;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The detection job: telemetry source (run peeked from each record) -> keyBy(run) -> validate (bad
 * input to dead letters) and per-run detectors -> alerts sink. The constructor takes the source and
 * sinks so tests wire bounded sources and collecting sinks; {@link #fromConfig} wires Kafka with
 * exactly-once alerts (Kafka transactions committed on checkpoints).
 *
 * <p>Submit to a Flink cluster with {@code flink run -c dev.trainwatch.jobs.flink.TrainwatchJob
 * trainwatch-jobs.jar --config job.properties}.
 */
public final class TrainwatchJob {

  private static final Logger LOG = LoggerFactory.getLogger(TrainwatchJob.class);

  private final Source<RawTelemetry, ?, ?> source;
  private final Sink<AlertEvent> alertSink;
  private final Sink<DeadLetter> deadLetterSink;
  private final DetectorConfig detectorConfig;
  private final long idleTimeoutMs;
  private final String telemetryTopic;
  private int maxActiveRuns = MonitorFunction.DEFAULT_MAX_ACTIVE_RUNS;
  private int miniBatchRecords = DEFAULT_MINI_BATCH_RECORDS;
  private long miniBatchDelayMs = DEFAULT_MINI_BATCH_DELAY_MS;

  /** The default of {@code mini-batch.records} (per parallel instance). */
  public static final int DEFAULT_MINI_BATCH_RECORDS = 4096;

  /** The default of {@code mini-batch.max-delay.ms}. */
  public static final long DEFAULT_MINI_BATCH_DELAY_MS = 20;

  public TrainwatchJob(
      Source<RawTelemetry, ?, ?> source,
      Sink<AlertEvent> alertSink,
      Sink<DeadLetter> deadLetterSink,
      DetectorConfig detectorConfig,
      long idleTimeoutMs) {
    this(source, alertSink, deadLetterSink, detectorConfig, idleTimeoutMs, "telemetry");
  }

  /** {@code telemetryTopic} names the input in dead letters' origin. */
  public TrainwatchJob(
      Source<RawTelemetry, ?, ?> source,
      Sink<AlertEvent> alertSink,
      Sink<DeadLetter> deadLetterSink,
      DetectorConfig detectorConfig,
      long idleTimeoutMs,
      String telemetryTopic) {
    this.telemetryTopic = telemetryTopic;
    this.source = source;
    this.alertSink = alertSink;
    this.deadLetterSink = deadLetterSink;
    this.detectorConfig = detectorConfig;
    this.idleTimeoutMs = idleTimeoutMs;
  }

  /** Caps the active runs of each parallel instance ({@code state.max-active-runs}). */
  public TrainwatchJob maxActiveRuns(int runs) {
    if (runs < 1) {
      throw new IllegalArgumentException(
          "configuration key 'state.max-active-runs': must be >= 1, got " + runs);
    }
    this.maxActiveRuns = runs;
    return this;
  }

  /**
   * Hands records to the detectors in mini-batches grouped by run ({@link MiniBatchOperator}): at
   * most {@code records} buffered per parallel instance (1: none), none longer than {@code
   * maxDelayMs}.
   */
  public TrainwatchJob miniBatch(int records, long maxDelayMs) {
    if (records < 1) {
      throw new IllegalArgumentException(
          "configuration key 'mini-batch.records': must be >= 1, got " + records);
    }
    if (maxDelayMs < 1) {
      throw new IllegalArgumentException(
          "configuration key 'mini-batch.max-delay.ms': must be >= 1, got " + maxDelayMs);
    }
    this.miniBatchRecords = records;
    this.miniBatchDelayMs = maxDelayMs;
    return this;
  }

  /** Adds the pipeline to {@code env}; returns the alert stream (before the sink). */
  public DataStream<AlertEvent> build(StreamExecutionEnvironment env) {
    return build(env, (records, alerts, metrics) -> {});
  }

  /** More consumers of the job's streams, e.g. storage ({@code StorageTopology::attach}). */
  @FunctionalInterface
  public interface Extension {
    void attach(
        DataStream<TelemetryRecord> records,
        DataStream<AlertEvent> alerts,
        DataStream<DetectorMetric> detectorMetrics);
  }

  /**
   * As {@link #build(StreamExecutionEnvironment)}, then hands the parsed records and the alerts and
   * the detectors' metrics to {@code extra} so more consumers (e.g. {@code StorageTopology.attach})
   * can be added.
   */
  public DataStream<AlertEvent> build(StreamExecutionEnvironment env, Extension extra) {
    MonitorFunction monitor =
        new MonitorFunction(detectorConfig, idleTimeoutMs, telemetryTopic, maxActiveRuns);
    SingleOutputStreamOperator<AlertEvent> alerts =
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "telemetry")
            .uid("telemetry-source")
            .keyBy(RawTelemetry::run)
            .transform(
                "validate + detectors per run",
                TypeInformation.of(AlertEvent.class),
                new MiniBatchOperator(monitor, miniBatchRecords, miniBatchDelayMs))
            .uid("detectors");
    alerts.sinkTo(alertSink).uid("alerts-sink").name("alerts");
    alerts
        .getSideOutput(MonitorFunction.DEAD_LETTERS)
        .sinkTo(deadLetterSink)
        .uid("dead-letter-sink")
        .name("dead letters");
    DataStream<DetectorMetric> metrics = alerts.getSideOutput(MonitorFunction.METRICS);
    extra.attach(alerts.getSideOutput(MonitorFunction.RECORDS), alerts, metrics);
    // the detectors' metrics are collected only when something reads them (storage): without it
    // they were built and dropped, a record's worth of objects every tenth record of each run.
    // Read through any path (a union or keyBy between is not itself in the environment's list).
    Transformation<?> produced = metrics.getTransformation();
    monitor.collectMetrics(
        env.getTransformations().stream()
            .anyMatch(t -> t != produced && t.getTransitivePredecessors().contains(produced)));
    return alerts;
  }

  /**
   * Wires Kafka per {@code config}; {@code bounded} stops at the offsets present at start (replay).
   */
  public static TrainwatchJob fromConfig(JobConfig config, boolean bounded) {
    String jobName = config.get("job.name");
    var builder =
        KafkaSource.<RawTelemetry>builder()
            .setBootstrapServers(config.bootstrapServers())
            .setTopics(config.topics().telemetry())
            .setGroupId(jobName)
            .setProperties(config.clientProperties("consumer"))
            .setDeserializer(new RawTelemetryDeserializer())
            .setStartingOffsets(
                switch (config.get("source.starting-offsets")) {
                  case "earliest" -> OffsetsInitializer.earliest();
                  case "latest" -> OffsetsInitializer.latest();
                  case "committed" ->
                      OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
                  default ->
                      throw new IllegalArgumentException(
                          "configuration key 'source.starting-offsets': "
                              + "expected committed, earliest or latest, got '"
                              + config.get("source.starting-offsets")
                              + "'");
                });
    if (bounded) {
      builder.setBounded(OffsetsInitializer.latest());
    }
    var producerProps = config.clientProperties("producer");
    // Must not exceed the broker's transaction.max.timeout.ms (15 min by default).
    producerProps.putIfAbsent("transaction.timeout.ms", "600000");
    DeliveryGuarantee alertGuarantee =
        switch (config.get("alerts.delivery-guarantee")) {
          case "exactly-once" -> DeliveryGuarantee.EXACTLY_ONCE;
          case "at-least-once" -> DeliveryGuarantee.AT_LEAST_ONCE;
          default ->
              throw new IllegalArgumentException(
                  "configuration key 'alerts.delivery-guarantee': expected "
                      + "exactly-once or at-least-once, got '"
                      + config.get("alerts.delivery-guarantee")
                      + "'");
        };
    KafkaSink<AlertEvent> alerts =
        KafkaSink.<AlertEvent>builder()
            .setBootstrapServers(config.bootstrapServers())
            .setKafkaProducerConfig(producerProps)
            .setRecordSerializer(new AlertRecordSerializer(config.topics().alerts()))
            .setDeliveryGuarantee(alertGuarantee)
            .setTransactionalIdPrefix(jobName + "-alerts")
            .build();
    KafkaSink<DeadLetter> deadLetters =
        KafkaSink.<DeadLetter>builder()
            .setBootstrapServers(config.bootstrapServers())
            .setKafkaProducerConfig(producerProps)
            .setRecordSerializer(new DeadLetterRecordSerializer(config.topics().deadLetter()))
            .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
            .setTransactionalIdPrefix(jobName + "-dead-letters")
            .build();
    return new TrainwatchJob(
            builder.build(),
            alerts,
            deadLetters,
            config.detectorConfig(),
            config.getLong("state.idle-timeout.ms"),
            config.topics().telemetry())
        .maxActiveRuns(Math.toIntExact(config.getLong("state.max-active-runs")))
        .miniBatch(
            Math.toIntExact(config.getLong("mini-batch.records")),
            config.getLong("mini-batch.max-delay.ms"));
  }

  /**
   * Applies the checkpointing (interval and durable storage under {@code checkpoint.dir}) and
   * parallelism of {@code config} to {@code env}. Every way of running the job goes through here
   * ({@code run}, {@code up}, {@code flink run}), so none of them is left with Flink's default of
   * checkpoints in the JobManager's heap: its 5 MiB limit is reached by ~13,000 runs, and then
   * every checkpoint fails and the job restarts forever.
   */
  public static void configure(StreamExecutionEnvironment env, JobConfig config) {
    env.configure(checkpointStorage(config));
    env.setParallelism((int) config.getLong("job.parallelism"));
    // Every stream element (RawTelemetry, TelemetryRecord, AlertEvent, DetectorMetric) is an
    // immutable record that no function keeps or mutates after emitting, so chained operators
    // may share instances instead of deep-copying each record per side output.
    env.getConfig().enableObjectReuse();
    env.enableCheckpointing(config.getLong("checkpoint.interval.ms"));
    env.getCheckpointConfig()
        .setMinPauseBetweenCheckpoints(
            Math.min(
                config.getLong("checkpoint.interval.ms") / 2, Duration.ofSeconds(5).toMillis()));
  }

  /**
   * The checkpoint storage of {@code config} as Flink settings: file system storage under {@code
   * checkpoint.dir}, and the state backend ({@code state.backend}): with {@code rocksdb},
   * checkpoints are incremental (only the files changed since the last one are uploaded), which is
   * what makes it pay for 100,000s of runs.
   */
  public static Configuration checkpointStorage(JobConfig config) {
    Configuration c = new Configuration();
    c.set(StateBackendOptions.STATE_BACKEND, config.get("state.backend"));
    if (config.get("state.backend").equals("rocksdb")) {
      c.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
    }
    c.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
    c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, config.checkpointUri());
    return c;
  }

  /**
   * The local Flink runtime of {@code trainwatch run} (and {@code up}): a MiniCluster in this JVM
   * whose REST, RPC and blob ports listen on loopback only (Flink binds them to every interface by
   * default, which would let anyone on the network submit jobs to it).
   */
  public static StreamExecutionEnvironment localEnvironment(JobConfig config) {
    Configuration c = loopback();
    c.addAll(checkpointStorage(config));
    return StreamExecutionEnvironment.createLocalEnvironment(
        (int) config.getLong("job.parallelism"), c);
  }

  /** Flink settings binding every port of a local runtime to 127.0.0.1. */
  public static Configuration loopback() {
    Configuration c = new Configuration();
    c.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
    c.set(RestOptions.ADDRESS, "127.0.0.1");
    c.set(JobManagerOptions.BIND_HOST, "127.0.0.1");
    c.set(JobManagerOptions.ADDRESS, "127.0.0.1");
    c.set(TaskManagerOptions.BIND_HOST, "127.0.0.1");
    c.set(TaskManagerOptions.HOST, "127.0.0.1");
    return c;
  }

  /**
   * Entry point for {@code flink run}: {@code --config <file>} and optional {@code key=value}
   * overrides.
   */
  public static void main(String[] args) throws Exception {
    JobArguments a = JobArguments.parse(args);
    JobConfig config = JobConfig.load(a.config, System.getenv(), a.overrides);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    assemble(env, config, System.getenv());
    env.execute(config.get("job.name"));
  }

  /**
   * The production job as {@code run}, {@code up} and {@code flink run} start it: the topics
   * ensured ({@link TopicSetup}), checkpointing configured, Kafka wired, and telemetry, detector
   * metrics and alerts stored in InfluxDB when {@code influx.url} (or {@code TRAINWATCH_INFLUX_URL}
   * in {@code envVars}) is set, through the same sink as {@code replay}. Returns the storage used.
   */
  public static Optional<InfluxSinkConfig> assemble(
      StreamExecutionEnvironment env, JobConfig config, Map<String, String> envVars)
      throws InterruptedException {
    Optional<InfluxSinkConfig> storage = config.influx(envVars);
    List<String> created = TopicSetup.ensure(config);
    if (!created.isEmpty()) {
      LOG.info("created topics {}", created);
    }
    configure(env, config);
    fromConfig(config, false)
        .build(
            env,
            (records, alerts, metrics) ->
                storage.ifPresent(s -> StorageTopology.attach(records, alerts, metrics, s)));
    return storage;
  }
}
