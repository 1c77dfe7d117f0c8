package dev.trainwatch.jobs.bench;

import dev.trainwatch.embedded.PersistentKafka;
import dev.trainwatch.jobs.flink.JobConfig;
import dev.trainwatch.jobs.flink.RawTelemetry;
import dev.trainwatch.jobs.flink.RawTelemetryDeserializer;
import dev.trainwatch.jobs.flink.TrainwatchJob;
import dev.trainwatch.jobs.replay.Replay;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.Status;
import dev.trainwatch.wire.TelemetryBinary;
import dev.trainwatch.wire.TelemetryJson;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import dev.trainwatch.wire.TraceFiles;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code trainwatch bench}: the numbers that matter, in one run on a loopback broker.
 *
 * <ol>
 *   <li>ns per record for parsing (JSON and the sidecar's binary form) and for each detector, and
 *       state bytes per run (scalars, 100 and 1,000 layers);
 *   <li>sustained records/s and metric values/s of the detection job (all detectors, exactly-once
 *       alerts) next to a trivial Flink keyBy/ValueState job on the same topic, for narrow
 *       (20-metric) and per-layer (~1,000-metric) records, each on a topic in the sidecar's binary
 *       form and on one in JSON (what other producers write), with CPU per record by stage;
 *   <li>produce-to-alert latency p50/p99 at half the sustained rate, at-least-once and exactly-once
 *       at two checkpoint intervals.
 * </ol>
 *
 * Flink rates are measured inside the job between its first and last record ({@link
 * ThroughputProbe}), so job start-up and the final checkpoint are excluded, and in the last of
 * several rounds of both jobs, so the JIT's warm-up is excluded too (the cold round's ratio is
 * printed).
 */
public final class Bench {

  /**
   * Knobs of one benchmark run. {@code rounds}: runs of each job over each topic, the last one
   * reported (the first pays the JIT); {@code json}: also measure a JSON topic beside the sidecar's
   * binary one.
   */
  public record Options(
      int runs,
      int records,
      int parallelism,
      Duration latencyDuration,
      Path traces,
      int wideMetrics,
      int wideRecords,
      int rounds,
      boolean json,
      List<Integer> latencyRates) {

    /** The narrow benchmark only (no per-layer fleet). */
    public Options(int runs, int records, int parallelism, Duration latencyDuration, Path traces) {
      this(runs, records, parallelism, latencyDuration, traces, 0, 0, 2, true, List.of());
    }
  }

  private final Options o;
  private final PrintStream out;

  public Bench(Options options, PrintStream out) {
    this.o = options;
    this.out = out;
  }

  public void run() throws Exception {
    out.printf(
        "trainwatch bench: %d runs, %d records of %d metrics, parallelism %d, %d cores%n",
        o.runs(),
        o.records(),
        SyntheticFleet.METRICS,
        o.parallelism(),
        Runtime.getRuntime().availableProcessors());
    detectorCosts();
    if (o.wideMetrics() > 0) {
      wideCosts();
    }
    // a broker on 127.0.0.1 only, in a temporary directory (the test kit binds every interface)
    try (PersistentKafka kafka = PersistentKafka.startTemporary()) {
      kafka.createTopics(Map.of("bench.alerts", 2, "bench.dead-letter", 1, "bench.metrics", 1));
      List<Measured> all = new ArrayList<>();
      List<Encoding> encodings =
          o.json() ? List.of(Encoding.BINARY, Encoding.JSON) : List.of(Encoding.BINARY);
      for (Encoding e : encodings) {
        // one more round for the first topic: the JIT compiles everything the jobs share there
        int rounds = o.rounds() + (all.isEmpty() ? 1 : 0);
        all.add(measure(kafka, "narrow", new SyntheticFleet(o.runs(), 1), o.records(), e, rounds));
      }
      if (o.wideMetrics() > 0 && o.wideRecords() > 0) {
        for (Encoding e : encodings) {
          all.add(
              measure(
                  kafka,
                  "wide",
                  SyntheticFleet.wide(o.runs(), 1, o.wideMetrics()),
                  o.wideRecords(),
                  e,
                  o.rounds()));
        }
      }
      out.printf(
          "%n== raw Kafka consumer, same narrow binary topic: %.0f records/s%n",
          consumerRate(kafka, "bench.narrow.binary"));
      throughputTable(all);
      for (Measured m : all) {
        stageTable(m);
      }
      // In the latency tests the producer runs beside the job on the same cores, so the load the
      // machine sustains end to end is what the producer alone and the job alone sustain,
      // combined as costs: 1 / (1 / producer + 1 / job).
      Measured narrow = all.get(0);
      double sustained = 1 / (1 / narrow.produceRate() + 1 / narrow.twRate());
      out.printf(
          "%n== end to end, producer and detection job sharing the cores: about %.0f records/s"
              + " (producer alone %.0f, job alone %.0f); latency tests at half: %.0f records/s%n",
          sustained, narrow.produceRate(), narrow.twRate(), sustained / 2);
      // The first latency job in this JVM runs cold (the latency path, its sink and a fresh topic):
      // its p99 was 1.6-2.0 s at 73,000-92,000 records/s where the same test run next gave 43-69
      // ms up to 100,000 records/s. So one unreported run first, at the same load.
      latency(kafka, sustained / 2, "at-least-once", 1_000, false);
      latency(kafka, sustained / 2, "at-least-once", 1_000);
      // exactly-once alerts become visible at the checkpoint after them: latency as a function
      // of the interval, at two intervals
      latency(kafka, sustained / 2, "exactly-once", 1_000);
      latency(kafka, sustained / 2, "exactly-once", 5_000);
      // the load curve: at-least-once latency at the rates asked for (--latency-rates), since
      // "half the sustained load" moves with the machine and with every speed-up of the job
      for (int rate : o.latencyRates()) {
        latency(kafka, rate, "at-least-once", 1_000);
      }
    }
  }

  private static double consumerRate(PersistentKafka kafka, String topic) {
    long t = System.nanoTime();
    long consumed = consumeAll(kafka.bootstrapServers(), topic);
    return consumed / seconds(t);
  }

  private void detectorCosts() {
    List<TelemetryRecord> fleet = new ArrayList<>();
    SyntheticFleet f = new SyntheticFleet(o.runs(), 7);
    for (int i = 0; i < o.runs() * 200; i++) {
      fleet.add(f.next(1_700_000_000_000L + i));
    }
    report("synthetic fleet (" + o.runs() + " runs x 200 steps)", DetectorBench.run(fleet, 5));
    if (o.traces() != null && Files.isDirectory(o.traces())) {
      List<TelemetryRecord> real = new ArrayList<>();
      for (Path p : TraceFiles.resolve(List.of(o.traces()))) {
        TraceFiles.forEachLine(
            p,
            l -> {
              if (TelemetryParser.DEFAULT.parse(l) instanceof ParseResult.Parsed pr) {
                real.add(pr.record());
              }
            });
      }
      report(
          "public traces (" + real.size() + " records, with sampled logits)",
          DetectorBench.run(real, 3));
    }
  }

  /**
   * In one thread, per metric: parsing and all detectors for narrow records and for wide
   * (per-layer) records side by side, and state per run at 100 and 1,000 layers.
   */
  private void wideCosts() {
    int runs = Math.min(o.runs(), 200);
    SyntheticFleet narrowFleet = new SyntheticFleet(runs, 7);
    SyntheticFleet wideFleet = SyntheticFleet.wide(runs, 7, o.wideMetrics());
    List<TelemetryRecord> narrow = records(narrowFleet, runs * 100);
    // the wide list holds about as many metric values as the narrow one x 10, within memory
    List<TelemetryRecord> wide =
        records(wideFleet, Math.max(runs, 2_000_000 / wideFleet.metrics()));
    DetectorBench.Result n = DetectorBench.totals(narrow, 5);
    DetectorBench.Result w = DetectorBench.totals(wide, 5);
    out.printf(
        "%n== per-metric cost, one thread: %d-metric records vs %d-metric records (%d layers x %d families)%n",
        narrowFleet.metrics(),
        wideFleet.metrics(),
        wideFleet.layers(),
        (wideFleet.metrics() - SyntheticFleet.METRICS) / wideFleet.layers());
    out.printf("  %-34s %12s %12s %8s%n", "ns per metric", "narrow", "wide", "ratio");
    perMetric(
        "parse + validate JSON (wire)",
        n.parseNsPerRecord() / narrowFleet.metrics(),
        w.parseNsPerRecord() / wideFleet.metrics());
    perMetric(
        "decode + validate binary (wire)",
        n.decodeNsPerRecord() / narrowFleet.metrics(),
        w.decodeNsPerRecord() / wideFleet.metrics());
    double nd = n.nsPerRecord().get(DetectorBench.ALL) / narrowFleet.metrics();
    double wd = w.nsPerRecord().get(DetectorBench.ALL) / wideFleet.metrics();
    perMetric("all detectors (RunMonitor)", nd, wd);
    out.printf(
        "  %-34s %12.1f %12.1f   (one core)%n",
        "M metric values/s, JSON + detect",
        1e3 / (n.parseNsPerRecord() / narrowFleet.metrics() + nd),
        1e3 / (w.parseNsPerRecord() / wideFleet.metrics() + wd));
    out.printf(
        "  %-34s %12.1f %12.1f   (one core)%n",
        "M metric values/s, binary + detect",
        1e3 / (n.decodeNsPerRecord() / narrowFleet.metrics() + nd),
        1e3 / (w.decodeNsPerRecord() / wideFleet.metrics() + wd));
    out.printf(
        "  state per run, scalars only: mean %.0f B, max %d B%n",
        n.meanStateBytes(), n.maxStateBytes());
    for (int layers : new int[] {100, 1000}) {
      // 4 families at 1,000 layers keep the record within the 4,096-metric limit
      SyntheticFleet f =
          SyntheticFleet.wide(20, 7, layers, layers >= 1000 ? 4 : SyntheticFleet.MAX_FAMILIES);
      DetectorBench.Result r = DetectorBench.state(records(f, 20 * 50));
      out.printf(
          "  state per run, %,d layers (%,d metrics a record, 50 steps): mean %.0f B, max %d B%n",
          layers, f.metrics(), r.meanStateBytes(), r.maxStateBytes());
    }
  }

  private void perMetric(String what, double narrow, double wide) {
    out.printf("  %-34s %12.1f %12.1f %7.2fx%n", what, narrow, wide, wide / narrow);
  }

  private static List<TelemetryRecord> records(SyntheticFleet f, int n) {
    List<TelemetryRecord> l = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      l.add(f.next(1_700_000_000_000L + i));
    }
    return l;
  }

  private void report(String what, DetectorBench.Result r) {
    out.printf("%n== per-record cost, %s%n", what);
    out.printf("  %-34s %9.0f ns/record%n", "parse + validate JSON (wire)", r.parseNsPerRecord());
    out.printf(
        "  %-34s %9.0f ns/record%n", "decode + validate binary (wire)", r.decodeNsPerRecord());
    r.nsPerRecord().forEach((k, v) -> out.printf("  %-34s %9.0f ns/record%n", k, v));
    out.printf("  state per run: mean %.0f B, max %d B%n", r.meanStateBytes(), r.maxStateBytes());
  }

  /** How the bench's producer writes records: as the sidecar does, or as any other producer. */
  enum Encoding {
    BINARY("binary (sidecar)"),
    JSON("JSON");

    final String label;

    Encoding(String label) {
      this.label = label;
    }

    byte[] encode(TelemetryRecord r, TelemetryBinary.Encoder binary) {
      return this == BINARY ? binary.encode(r) : TelemetryJson.toBytes(r);
    }
  }

  /** One throughput measurement: the trivial job and the detection job over the same topic. */
  record Measured(
      String what,
      int rounds,
      Encoding encoding,
      int records,
      int metrics,
      double produceRate,
      double avgBytes,
      double passRate,
      double twRate,
      double coldPassRate,
      double coldTwRate,
      double unbatchedRate,
      ThreadCpu.Usage passCpu,
      ThreadCpu.Usage twCpu,
      ThreadCpu.Usage unbatchedCpu,
      long passCounted,
      long twCounted,
      long unbatchedCounted) {

    double ratio() {
      return twRate / passRate;
    }
  }

  /**
   * Produces {@code records} records of {@code fleet} to a fresh topic in {@code encoding}, then
   * runs the trivial job {@code rounds} times over it, then the detection job. The first round runs
   * cold (the JIT compiles while it runs, and on 2 cores the compiler threads take CPU from the
   * job); the last round is the steady state reported, with its CPU by stage.
   */
  private Measured measure(
      PersistentKafka kafka,
      String what,
      SyntheticFleet fleet,
      int records,
      Encoding encoding,
      int rounds)
      throws Exception {
    String topic = "bench." + what + "." + encoding.name().toLowerCase(Locale.ROOT);
    kafka.createTopics(Map.of(topic, o.parallelism()));
    long t = System.nanoTime();
    long bytes = produce(kafka.bootstrapServers(), topic, records, fleet, encoding);
    double produceRate = records / seconds(t);
    double[] passRates = new double[rounds];
    double[] twRates = new double[rounds];
    ThreadCpu.Usage passCpu = null;
    ThreadCpu.Usage twCpu = null;
    long passCount = 0;
    long twCount = 0;
    // Each job's rounds in a row: the last round of a job follows rounds of the same job, so the
    // JIT's profiles are that job's, as in a JVM that runs one job (alternating the two jobs made
    // the code they share deoptimise and recompile at the start of every round).
    for (int round = 0; round < rounds; round++) {
      ThreadCpu cpu = ThreadCpu.start();
      ThroughputProbe.reset("pass", records / 3, cpu::mark);
      runJob(env -> PassThroughJob.build(env, source(kafka, topic)));
      passCpu = cpu.stop();
      passRates[round] = ThroughputProbe.steadyRate("pass");
      passCount = ThroughputProbe.steadyCount("pass");
      check("pass", records);
    }
    for (int round = 0; round < rounds; round++) {
      JobRound r = detectionRound(trainwatch(kafka, topic), "trainwatch", records);
      twCpu = r.cpu();
      twRates[round] = r.rate();
      twCount = r.counted();
    }
    // the same job handing each record on at once (mini-batch.records=1): what the mini-batch
    // gains, side by side
    JobRound unbatched = null;
    for (int round = 0; round < rounds; round++) {
      unbatched = detectionRound(trainwatch(kafka, topic, 1), "unbatched", records);
    }
    return new Measured(
        what,
        rounds,
        encoding,
        records,
        fleet.metrics(),
        produceRate,
        (double) bytes / records,
        passRates[rounds - 1],
        twRates[rounds - 1],
        passRates[0],
        twRates[0],
        unbatched.rate(),
        passCpu,
        twCpu,
        unbatched.cpu(),
        passCount,
        twCount,
        unbatched.counted());
  }

  private static void check(String probe, int records) {
    if (ThroughputProbe.count(probe) != records) {
      throw new IllegalStateException(
          "the "
              + probe
              + " job saw "
              + ThroughputProbe.count(probe)
              + " of "
              + records
              + " records");
    }
  }

  private void throughputTable(List<Measured> all) {
    out.printf(
        "%n== sustained throughput, steady state (the last of %d rounds of each job, after its"
            + " first third; %d runs, parallelism %d)%n",
        o.rounds(), o.runs(), o.parallelism());
    out.printf(
        "  %-30s %9s %9s %11s %11s %8s %12s %9s %12s%n",
        "records, topic encoding",
        "records",
        "B/record",
        "trivial/s",
        "trainwatch/s",
        "ratio",
        "M values/s",
        "cold",
        "no batches/s");
    for (Measured m : all) {
      out.printf(
          "  %-30s %9d %9.0f %11.0f %11.0f %7.2fx %5.2f/%6.2f %8.2fx %12.0f%n",
          m.what() + " x" + m.metrics() + ", " + m.encoding().label,
          m.records(),
          m.avgBytes(),
          m.passRate(),
          m.twRate(),
          m.ratio(),
          m.twRate() * m.metrics() / 1e6,
          m.passRate() * m.metrics() / 1e6,
          m.coldTwRate() / m.coldPassRate(),
          m.unbatchedRate());
    }
    out.printf(
        "  (M values/s: trainwatch/trivial; cold: the first round's ratio, JIT still compiling;"
            + " no batches: trainwatch with mini-batch.records=1, its last round;"
            + " producer: %s records/s)%n",
        all.stream().map(m -> String.format("%.0f", m.produceRate())).toList());
  }

  /** CPU per record (and per metric value) by stage, trivial job vs detection job. */
  private void stageTable(Measured m) {
    out.printf(
        "%n== CPU per record by stage, %s records of %d metrics, %s topic, steady state (last"
            + " round, after its first third; us per record, ns per metric value)%n",
        m.what(), m.metrics(), m.encoding().label);
    out.printf(
        "  %-48s %10s %12s %10s %12s%n", "stage", "trivial", "trainwatch", "ns/value", "ns/value");
    TreeSet<String> stages = new TreeSet<>(m.passCpu().cpuByStage().keySet());
    stages.addAll(m.twCpu().cpuByStage().keySet());
    long passTotal = 0;
    long twTotal = 0;
    for (String stage : stages) {
      long pass = m.passCpu().cpuByStage().getOrDefault(stage, 0L);
      long tw = m.twCpu().cpuByStage().getOrDefault(stage, 0L);
      passTotal += pass;
      twTotal += tw;
      stageRow(stage, pass, tw, m);
    }
    stageRow("total", passTotal, twTotal, m);
    long unbatchedTotal = m.unbatchedCpu().cpuByStage().values().stream().mapToLong(x -> x).sum();
    out.printf(
        "  %-48s %10s %12.2f   (total %.2f)%n",
        "  the same without mini-batches: keyed operator",
        "",
        m.unbatchedCpu().cpuByStage().getOrDefault(ThreadCpu.KEYED, 0L)
            / 1e3
            / m.unbatchedCounted(),
        unbatchedTotal / 1e3 / m.unbatchedCounted());
    stageRow(
        "GC collections (wall time, not in the total)",
        m.passCpu().gcWallNanos(),
        m.twCpu().gcWallNanos(),
        m);
    stageRow(
        "JIT compiling (wall time, not in the total)",
        m.passCpu().jitWallNanos(),
        m.twCpu().jitWallNanos(),
        m);
  }

  private void stageRow(String what, long pass, long tw, Measured m) {
    out.printf(
        "  %-48s %10.2f %12.2f %10.1f %12.1f%n",
        what,
        pass / 1e3 / m.passCounted(),
        tw / 1e3 / m.twCounted(),
        (double) pass / m.passCounted() / m.metrics(),
        (double) tw / m.twCounted() / m.metrics());
  }

  /** One job's last round: steady rate, CPU by stage, records counted in the steady part. */
  private record JobRound(double rate, ThreadCpu.Usage cpu, long counted) {}

  /** One round of the detection job {@code job}, its records counted by the probe {@code probe}. */
  private JobRound detectionRound(TrainwatchJob job, String probe, int records) throws Exception {
    // Probe after parsing: pipelined with backpressure, so it runs at the detectors' pace.
    ThreadCpu cpu = ThreadCpu.start();
    ThroughputProbe.reset(probe, records / 3, cpu::mark);
    runJob(
        env ->
            job.build(
                env,
                (parsed, alerts, metrics) ->
                    parsed
                        .map(new ThroughputProbe<>(probe))
                        .returns(parsed.getType())
                        .sinkTo(new DiscardingSink<>())));
    ThreadCpu.Usage usage = cpu.stop();
    JobRound round =
        new JobRound(ThroughputProbe.steadyRate(probe), usage, ThroughputProbe.steadyCount(probe));
    check(probe, records);
    return round;
  }

  private TrainwatchJob trainwatch(PersistentKafka kafka, String topic) {
    return TrainwatchJob.fromConfig(benchConfig(kafka, topic, "exactly-once", 1_000), true);
  }

  /** The detection job with mini-batches of {@code miniBatch} records (1: none). */
  private TrainwatchJob trainwatch(PersistentKafka kafka, String topic, int miniBatch) {
    JobConfig config = benchConfig(kafka, topic, "exactly-once", 1_000);
    return TrainwatchJob.fromConfig(config, true)
        .miniBatch(miniBatch, config.getLong("mini-batch.max-delay.ms"));
  }

  private JobConfig benchConfig(
      PersistentKafka kafka, String topic, String guarantee, long checkpointMs) {
    Map<String, String> c = new HashMap<>();
    c.put("kafka.bootstrap.servers", kafka.bootstrapServers());
    c.put("topics.telemetry", topic);
    c.put("topics.alerts", "bench.alerts");
    c.put("topics.dead-letter", "bench.dead-letter");
    c.put("topics.metrics", "bench.metrics");
    c.put("job.name", "bench-" + topic + "-" + System.nanoTime());
    c.put("job.parallelism", String.valueOf(o.parallelism()));
    c.put("checkpoint.interval.ms", String.valueOf(checkpointMs));
    c.put("source.starting-offsets", "earliest");
    c.put("alerts.delivery-guarantee", guarantee);
    return JobConfig.of(c);
  }

  private KafkaSource<RawTelemetry> source(PersistentKafka kafka, String topic) {
    return KafkaSource.<RawTelemetry>builder()
        .setBootstrapServers(kafka.bootstrapServers())
        .setTopics(topic)
        .setGroupId("bench-pass-" + System.nanoTime())
        .setStartingOffsets(OffsetsInitializer.earliest())
        .setBounded(OffsetsInitializer.latest())
        .setDeserializer(new RawTelemetryDeserializer())
        .build();
  }

  private void runJob(Consumer<StreamExecutionEnvironment> job) throws Exception {
    StreamExecutionEnvironment env = Replay.localEnvironment(o.parallelism());
    env.enableCheckpointing(1_000);
    env.getConfig().enableObjectReuse(); // as TrainwatchJob.configure does, for both jobs
    job.accept(env);
    env.execute("bench");
  }

  private void latency(PersistentKafka kafka, double rate, String guarantee, long checkpointMs)
      throws Exception {
    latency(kafka, rate, guarantee, checkpointMs, true);
  }

  /** One latency test; {@code report} false: a warm-up, printed as such. */
  private void latency(
      PersistentKafka kafka, double rate, String guarantee, long checkpointMs, boolean report)
      throws Exception {
    // a topic per test: a job reading an earlier test's records first would time those instead
    String topic =
        "bench.live."
            + guarantee
            + "."
            + checkpointMs
            + "."
            + Math.round(rate)
            + (report ? "" : ".warm-up");
    String alerts = "bench.alerts";
    kafka.createTopics(Map.of(topic, o.parallelism()));
    JobConfig config = benchConfig(kafka, topic, guarantee, checkpointMs);
    StreamExecutionEnvironment env = Replay.localEnvironment(o.parallelism());
    TrainwatchJob.configure(env, config);
    TrainwatchJob.fromConfig(config, false).build(env);
    JobClient job = env.executeAsync("bench-latency");

    List<Long> latencies = new ArrayList<>();
    AtomicBoolean stop = new AtomicBoolean();
    Thread reader =
        new Thread(
            () -> readLatencies(kafka.bootstrapServers(), alerts, guarantee, stop, latencies));
    reader.start();
    Thread.sleep(3000); // job running
    long t0 = System.currentTimeMillis();
    long sent = 0;
    SyntheticFleet fleet = new SyntheticFleet(o.runs(), 3);
    TelemetryBinary.Encoder binary = new TelemetryBinary.Encoder();
    try (KafkaProducer<byte[], byte[]> p = producer(kafka.bootstrapServers(), "1")) {
      long end = System.nanoTime() + o.latencyDuration().toNanos();
      long start = System.nanoTime();
      while (System.nanoTime() < end) {
        long due = (long) ((System.nanoTime() - start) / 1e9 * rate);
        while (sent < due) {
          long now = System.currentTimeMillis();
          // a prime period walks the probes over all runs: each run's alert resolves before its
          // next probe
          TelemetryRecord r = sent % 2003 == 2002 ? fleet.poisoned(now) : fleet.next(now);
          p.send(
              new ProducerRecord<>(
                  topic,
                  r.run().getBytes(StandardCharsets.UTF_8),
                  Encoding.BINARY.encode(r, binary)));
          sent++;
        }
        Thread.sleep(1);
      }
    }
    Thread.sleep(3000);
    stop.set(true);
    reader.join();
    job.cancel().get();
    List<Long> sorted;
    synchronized (latencies) {
      sorted = latencies.stream().sorted().toList();
    }
    if (!report) {
      out.printf(
          "%n== warm-up: produce-to-alert latency, %s alerts (not reported: JIT and first job)%n",
          guarantee);
      return;
    }
    out.printf(
        "%n== produce-to-alert latency, %s alerts, at %.0f records/s (%d records, %d probes, checkpoint %.0f s)%n",
        guarantee,
        sent * 1000.0 / (System.currentTimeMillis() - t0 - 3000),
        sent,
        sorted.size(),
        checkpointMs / 1000.0);
    if (sorted.isEmpty()) {
      out.println("  no alert seen");
    } else {
      out.printf(
          "  p50 %d ms, p99 %d ms, max %d ms%n",
          pct(sorted, 0.50), pct(sorted, 0.99), sorted.get(sorted.size() - 1));
    }
  }

  private static long pct(List<Long> sorted, double q) {
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
  }

  private static void readLatencies(
      String bootstrap, String topic, String guarantee, AtomicBoolean stop, List<Long> out) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(
        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
        guarantee.equals("exactly-once") ? "read_committed" : "read_uncommitted");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "10");
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts =
          c.partitionsFor(topic).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      c.assign(parts);
      c.seekToEnd(parts);
      while (!stop.get()) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(20))) {
          long now = System.currentTimeMillis();
          AlertEvent a = AlertJson.parse(r.value());
          if (a.status() == Status.FIRING && a.detector().equals("non_finite") && a.timeMs() > 0) {
            synchronized (out) {
              out.add(now - a.timeMs());
            }
          }
        }
      }
    }
  }

  private static KafkaProducer<byte[], byte[]> producer(String bootstrap, String lingerMs) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /** Produces {@code n} records of {@code fleet}; returns the bytes of their values. */
  private static long produce(
      String bootstrap, String topic, int n, SyntheticFleet fleet, Encoding encoding) {
    TelemetryBinary.Encoder binary = new TelemetryBinary.Encoder();
    long bytes = 0;
    try (KafkaProducer<byte[], byte[]> p = producer(bootstrap, "5")) {
      for (int i = 0; i < n; i++) {
        TelemetryRecord r = fleet.next(1_700_000_000_000L + i);
        byte[] value = encoding.encode(r, binary);
        bytes += value.length;
        p.send(new ProducerRecord<>(topic, r.run().getBytes(StandardCharsets.UTF_8), value));
      }
      p.flush();
    }
    return bytes;
  }

  private static long consumeAll(String bootstrap, String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    long n = 0;
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts =
          c.partitionsFor(topic).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      long total = end.values().stream().mapToLong(Long::longValue).sum();
      while (n < total) {
        n += c.poll(Duration.ofMillis(200)).count();
      }
    }
    return n;
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
