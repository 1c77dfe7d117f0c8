package dev.trainwatch.jobs.bench;

import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.jobs.flink.JobConfig;
import dev.trainwatch.jobs.flink.TrainwatchJob;
import dev.trainwatch.wire.TelemetryJson;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Benchmark, not a test: the detection job with each {@code state.backend} over the same topic of a
 * very large fleet (default 100,000 runs x 3 records), on {@code trainwatch run}'s settings
 * (exactly-once, checkpoints under a temporary {@code checkpoint.dir}, 5 s apart). Prints the rate
 * between the first and the last record, and Flink's checkpoint statistics (REST) after the given
 * number of completed checkpoints: checkpointed size (what one checkpoint uploads), full state size
 * and duration. Run with the test classpath: {@code java -cp ...
 * dev.trainwatch.jobs.bench.StateBackendBench [runs] [records per run] [hashmap,rocksdb]
 * [checkpoints]}.
 */
public final class StateBackendBench {

  private static final Pattern COMPLETED = Pattern.compile("\"completed\":(\\d+)");

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int perRun = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    String[] backends = (args.length > 2 ? args[2] : "rocksdb,hashmap").split(",");
    int checkpoints = args.length > 3 ? Integer.parseInt(args[3]) : 12;
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      kafka.createTopics(Map.of("sb.t", 2, "sb.a", 1, "sb.d", 1, "sb.m", 1));
      produce(kafka.bootstrapServers(), runs, perRun);
      for (String backend : backends) {
        measure(kafka.bootstrapServers(), backend, checkpoints, (long) runs * perRun);
      }
    }
  }

  private static void produce(String bootstrap, int runs, int perRun) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
    SyntheticFleet fleet = new SyntheticFleet(runs, 1);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (long i = 0; i < (long) runs * perRun; i++) {
        var r = fleet.next(1_700_000_000_000L + i);
        producer.send(
            new ProducerRecord<>(
                "sb.t", r.run().getBytes(StandardCharsets.UTF_8), TelemetryJson.toBytes(r)));
      }
    }
  }

  private static void measure(String bootstrap, String backend, int checkpoints, long records)
      throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Map<String, String> c =
        new HashMap<>(
            Map.of(
                "kafka.bootstrap.servers",
                bootstrap,
                "topics.telemetry",
                "sb.t",
                "topics.alerts",
                "sb.a",
                "topics.dead-letter",
                "sb.d",
                "topics.metrics",
                "sb.m",
                "checkpoint.interval.ms",
                "5000",
                "source.starting-offsets",
                "earliest",
                "state.backend",
                backend,
                "checkpoint.dir",
                Files.createTempDirectory("trainwatch-sb").toString()));
    c.put("job.name", "sb-" + backend);
    c.put("state.max-active-runs", "1000000");
    JobConfig config = JobConfig.of(c);
    Configuration flink = TrainwatchJob.loopback();
    flink.addAll(TrainwatchJob.checkpointStorage(config));
    flink.set(RestOptions.PORT, port);
    flink.set(
        TaskManagerOptions.MANAGED_MEMORY_SIZE,
        MemorySize.parse("512m")); // RocksDB's block cache and memtables
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, flink);
    TrainwatchJob.configure(env, config);
    ThroughputProbe.reset("sb");
    TrainwatchJob.fromConfig(config, false)
        .build(
            env,
            (parsed, alerts, metrics) ->
                parsed
                    .map(new ThroughputProbe<>("sb"))
                    .returns(parsed.getType())
                    .sinkTo(new DiscardingSink<>()));
    var job = env.executeAsync("sb-" + backend);
    HttpClient http = HttpClient.newHttpClient();
    URI stats = URI.create("http://127.0.0.1:" + port + "/jobs/" + job.getJobID() + "/checkpoints");
    String last = "";
    long deadline = System.nanoTime() + 900_000_000_000L;
    while (System.nanoTime() < deadline) {
      Thread.sleep(2000);
      try {
        last =
            http.send(HttpRequest.newBuilder(stats).build(), HttpResponse.BodyHandlers.ofString())
                .body();
      } catch (IOException e) {
        continue; // REST not up yet
      }
      Matcher m = COMPLETED.matcher(last);
      if (m.find() && Integer.parseInt(m.group(1)) >= checkpoints) {
        break;
      }
    }
    job.cancel().get();
    Thread.sleep(2000); // the probes publish at close
    System.out.printf(
        Locale.ROOT,
        "%n== state.backend=%s: %,.0f records/s (%,d of %,d records seen)%n",
        backend,
        ThroughputProbe.rate("sb"),
        ThroughputProbe.count("sb"),
        records);
    System.out.println("checkpoint statistics: " + last);
  }
}
