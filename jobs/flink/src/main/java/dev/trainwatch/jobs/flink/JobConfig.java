package dev.trainwatch.jobs.flink;

import dev.trainwatch.jobs.detect.ConfigException;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.Setting;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.jobs.storage.InfluxSinkConfig;
import dev.trainwatch.wire.Topics;
import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Configuration of the detection job, declared in one place: every key with its type, default,
 * range and meaning is in {@link #KEYS}. Sources, in increasing precedence: defaults, a properties
 * file, environment variables ({@code TRAINWATCH_KAFKA_BOOTSTRAP_SERVERS} overrides {@code
 * kafka.bootstrap.servers}), explicit overrides. Client settings pass through by prefix ({@code
 * kafka.consumer.fetch.min.bytes=1} becomes {@code fetch.min.bytes=1} on the consumer; {@code
 * kafka.common.security.protocol} goes to both). Detector thresholds pass through as {@code
 * detector.<key>} (declared by the detectors, docs/detectors.md) and storage as {@code influx.*}
 * ({@link InfluxSinkConfig}). Everything is validated when the config is built: an unknown key, an
 * unparsable or out-of-range value fails with a message naming the key and what is allowed.
 */
public record JobConfig(Map<String, String> values) implements Serializable {

  private static Setting<String> string(String key, String dflt, String doc) {
    return new Setting<>(key, Setting.Type.STRING, dflt, Setting.ANY, doc);
  }

  private static Setting<Long> number(String key, long dflt, Setting.Validator v, String doc) {
    return new Setting<>(key, Setting.Type.LONG, dflt, v, doc);
  }

  public static final List<Setting<?>> KEYS =
      List.of(
          string("kafka.bootstrap.servers", null, "Kafka bootstrap servers (host:port,...)."),
          string("topics.telemetry", Topics.DEFAULT.telemetry(), "Telemetry topic, keyed by run."),
          string(
              "topics.alerts",
              Topics.DEFAULT.alerts(),
              "Alert events topic (exactly-once, read_committed)."),
          string(
              "topics.dead-letter",
              Topics.DEFAULT.deadLetter(),
              "Malformed input with the reason."),
          string("topics.metrics", Topics.DEFAULT.metrics(), "Detector metrics for storage."),
          new Setting<>(
              "topics.create",
              Setting.Type.BOOLEAN,
              true,
              Setting.ANY,
              "Create missing topics at start-up with the partition counts below; false: a missing topic fails start-up naming it."),
          number(
              "topics.telemetry.partitions",
              8,
              Setting.atLeast(1),
              "Partitions of a created telemetry topic (the job's source parallelism is at most this)."),
          number(
              "topics.alerts.partitions",
              2,
              Setting.atLeast(1),
              "Partitions of a created alerts topic."),
          number(
              "topics.dead-letter.partitions",
              1,
              Setting.atLeast(1),
              "Partitions of a created dead-letter topic."),
          number(
              "topics.metrics.partitions",
              2,
              Setting.atLeast(1),
              "Partitions of a created metrics topic."),
          number(
              "topics.replication-factor",
              -1,
              Setting.atLeast(-1),
              "Replication factor of created topics; -1 = the broker's default.replication.factor."),
          string(
              "job.name",
              "trainwatch-detectors",
              "Flink job name; also the Kafka consumer group and transactional-id prefix."),
          number("job.parallelism", 2, Setting.between(1, 32768), "Parallelism of the job."),
          number(
              "checkpoint.interval.ms",
              10000,
              Setting.atLeast(10),
              "Checkpoint interval; alerts become visible to read_committed consumers at each checkpoint."),
          string(
              "checkpoint.dir",
              "~/.trainwatch/checkpoints",
              "Durable checkpoint storage: a directory ('~' = the home "
                  + "directory) or a URI (s3://bucket/path with Flink's s3 plugin, hdfs://...). On a cluster it must be storage "
                  + "every JobManager and TaskManager reaches. Without it Flink keeps checkpoints in the JobManager's heap, "
                  + "limited to 5 MiB: about 13,000 runs."),
          number(
              "state.max-active-runs",
              100000,
              Setting.atLeast(1),
              "Active runs one parallel instance of the job keeps (~1.5 KB of state "
                  + "each on the public traces, 57 KB measured with every field at its limit); a new run beyond it is refused: "
                  + "its records become dead letters naming this key and count in runsRefused."),
          new Setting<>(
              "state.backend",
              Setting.Type.STRING,
              "hashmap",
              Setting.oneOf("hashmap", "rocksdb"),
              "hashmap: run state on the JVM heap, fastest per record, checkpoints copy all of it; rocksdb: run state on "
                  + "local disk (off-heap), incremental checkpoints, for fleets whose state outgrows the heap (README, Performance)."),
          number(
              "state.idle-timeout.ms",
              1800000,
              Setting.atLeast(1),
              "A run silent this long has its state dropped and its alerts resolved."),
          number(
              "mini-batch.records",
              TrainwatchJob.DEFAULT_MINI_BATCH_RECORDS,
              Setting.between(1, 1 << 20),
              "Records each parallel instance buffers and hands to the detectors grouped by run, so a run's state is "
                  + "loaded once for all its records in the batch (README, Performance); 1: each record at once."),
          number(
              "mini-batch.max-delay.ms",
              TrainwatchJob.DEFAULT_MINI_BATCH_DELAY_MS,
              Setting.between(1, 10_000),
              "The longest a record waits in the mini-batch: the most it delays an alert."),
          new Setting<>(
              "source.starting-offsets",
              Setting.Type.STRING,
              "committed",
              Setting.oneOf("committed", "earliest", "latest"),
              "committed (fall back to earliest), earliest or latest."),
          new Setting<>(
              "alerts.delivery-guarantee",
              Setting.Type.STRING,
              "exactly-once",
              Setting.oneOf("exactly-once", "at-least-once"),
              "exactly-once (Kafka transactions, visible at checkpoints) "
                  + "or at-least-once (visible in milliseconds; downstream dedups by fingerprint)."));

  private static final List<String> PREFIXES =
      List.of("kafka.consumer.", "kafka.producer.", "kafka.common.", "detector.", "influx.");

  public JobConfig {
    values = new TreeMap<>(values);
    for (String k : values.keySet()) {
      if (find(k) == null && PREFIXES.stream().noneMatch(k::startsWith)) {
        throw new ConfigException(
            "unknown configuration key '"
                + k
                + "'; known keys: "
                + KEYS.stream().map(Setting::key).toList()
                + " and the prefixes "
                + PREFIXES);
      }
    }
    for (Setting<?> k : KEYS) {
      String v = values.get(k.key());
      if (v == null) {
        if (k.required()) {
          throw new ConfigException("configuration key '" + k.key() + "' is required: " + k.doc());
        }
      } else {
        try {
          k.parse(v);
        } catch (IllegalArgumentException e) {
          throw new ConfigException(
              e.getMessage().replaceFirst("^setting '", "configuration key '"), e);
        }
      }
    }
    // Fail now, not when the job starts: storage and detector keys are checked by their owners.
    InfluxSinkConfig.load(values, Map.of());
    detectorConfig(values);
  }

  private static Setting<?> find(String key) {
    for (Setting<?> s : KEYS) {
      if (s.key().equals(key)) {
        return s;
      }
    }
    return null;
  }

  /** Loads defaults, then the file (if any), then environment, then overrides. */
  public static JobConfig load(Path file, Map<String, String> env, Map<String, String> overrides)
      throws IOException {
    Map<String, String> v = new LinkedHashMap<>();
    for (Setting<?> k : KEYS) {
      if (!k.required()) {
        v.put(k.key(), String.valueOf(k.dflt()));
      }
    }
    if (file != null) {
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(file)) {
        p.load(r);
      }
      p.forEach((k, val) -> v.put(k.toString().trim(), val.toString().trim()));
    }
    for (Setting<?> k : KEYS) {
      String e = env.get(envName(k.key()));
      if (e != null) {
        v.put(k.key(), e);
      }
    }
    v.putAll(overrides);
    return new JobConfig(v);
  }

  public static JobConfig of(Map<String, String> overrides) {
    try {
      return load(null, Map.of(), overrides);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String envName(String key) {
    return "TRAINWATCH_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  public String get(String key) {
    return values.get(key);
  }

  public long getLong(String key) {
    try {
      return Long.parseLong(values.get(key).trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(
          "configuration key '" + key + "': expected an integer, got '" + values.get(key) + "'");
    }
  }

  public boolean getBoolean(String key) {
    return Boolean.parseBoolean(values.get(key).trim());
  }

  /**
   * {@code checkpoint.dir} as a URI Flink's file systems take: a plain path becomes {@code
   * file://}.
   */
  public String checkpointUri() {
    String dir = get("checkpoint.dir").trim();
    if (dir.isEmpty()) {
      throw new ConfigException("configuration key 'checkpoint.dir': must not be empty");
    }
    if (dir.contains("://")) {
      return dir;
    }
    if (dir.equals("~") || dir.startsWith("~/")) {
      dir = System.getProperty("user.home") + dir.substring(1);
    }
    return Path.of(dir).toAbsolutePath().normalize().toUri().toString();
  }

  public String bootstrapServers() {
    return get("kafka.bootstrap.servers");
  }

  public Topics topics() {
    return new Topics(
        get("topics.telemetry"),
        get("topics.alerts"),
        get("topics.dead-letter"),
        get("topics.metrics"));
  }

  /** Partitions of each topic the job reads or writes, for creating missing ones. */
  public Map<String, Integer> topicPartitions() {
    Map<String, Integer> m = new LinkedHashMap<>();
    m.put(get("topics.telemetry"), (int) getLong("topics.telemetry.partitions"));
    m.put(get("topics.alerts"), (int) getLong("topics.alerts.partitions"));
    m.put(get("topics.dead-letter"), (int) getLong("topics.dead-letter.partitions"));
    m.put(get("topics.metrics"), (int) getLong("topics.metrics.partitions"));
    return m;
  }

  /** Client properties for one side ("consumer" or "producer"): common first, then specific. */
  public Properties clientProperties(String side) {
    Properties p = new Properties();
    values.forEach(
        (k, v) -> {
          if (k.startsWith("kafka.common.")) {
            p.setProperty(k.substring("kafka.common.".length()), v);
          }
        });
    String prefix = "kafka." + side + ".";
    values.forEach(
        (k, v) -> {
          if (k.startsWith(prefix)) {
            p.setProperty(k.substring(prefix.length()), v);
          }
        });
    return p;
  }

  /**
   * Storage, when {@code influx.url} (or {@code TRAINWATCH_INFLUX_URL} in {@code env}) is set;
   * credentials from env.
   */
  public Optional<InfluxSinkConfig> influx(Map<String, String> env) {
    return InfluxSinkConfig.load(values, env);
  }

  public DetectorConfig detectorConfig() {
    return detectorConfig(values);
  }

  private static DetectorConfig detectorConfig(Map<String, String> values) {
    Map<String, String> d = new TreeMap<>();
    values.forEach(
        (k, v) -> {
          if (k.startsWith("detector.")) {
            d.put(k.substring("detector.".length()), v);
          }
        });
    return new DetectorConfig(new Settings(d), "detector.");
  }
}
