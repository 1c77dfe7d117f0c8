package dev.trainwatch.jobs.flink;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.wire.Topics;
import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Configuration of the detection job, declared in one place: every key with its default
 * and meaning is in {@link #KEYS}. Sources, in increasing precedence: defaults, a
 * properties file, environment variables ({@code TRAINWATCH_KAFKA_BOOTSTRAP_SERVERS}
 * overrides {@code kafka.bootstrap.servers}), explicit overrides. Client settings pass
 * through by prefix ({@code kafka.consumer.fetch.min.bytes=1} becomes
 * {@code fetch.min.bytes=1} on the consumer; {@code kafka.common.security.protocol} goes to
 * both). Detector thresholds pass through as {@code detector.<key>}. Unknown keys fail
 * start-up with a message naming the key.
 */
public record JobConfig(Map<String, String> values) implements Serializable {

  /** A declared key: name, default (null = required), meaning. */
  public record Key(String name, String dflt, String doc) {}

  public static final List<Key> KEYS = List.of(
      new Key("kafka.bootstrap.servers", null, "Kafka bootstrap servers (host:port,...)."),
      new Key("topics.telemetry", Topics.DEFAULT.telemetry(), "Telemetry topic, keyed by run."),
      new Key("topics.alerts", Topics.DEFAULT.alerts(), "Alert events topic (exactly-once, read_committed)."),
      new Key("topics.dead-letter", Topics.DEFAULT.deadLetter(), "Malformed input with the reason."),
      new Key("topics.metrics", Topics.DEFAULT.metrics(), "Detector metrics for storage."),
      new Key("job.name", "trainwatch-detectors", "Flink job name; also the Kafka consumer group and transactional-id prefix."),
      new Key("job.parallelism", "2", "Parallelism of the job."),
      new Key("checkpoint.interval.ms", "10000", "Checkpoint interval; alerts become visible to read_committed consumers at each checkpoint."),
      new Key("checkpoint.dir", "~/.trainwatch/checkpoints", "Durable checkpoint storage: a directory ('~' = the home "
          + "directory) or a URI (s3://bucket/path with Flink's s3 plugin, hdfs://...). On a cluster it must be storage "
          + "every JobManager and TaskManager reaches. Without it Flink keeps checkpoints in the JobManager's heap, "
          + "limited to 5 MiB: about 13,000 runs."),
      new Key("state.max-active-runs", "100000", "Active runs one parallel instance of the job keeps (~1.5 KB of state "
          + "each on the public traces, 38 KB measured with every field at its limit); a new run beyond it is refused: "
          + "its records become dead letters naming this key and count in runsRefused."),
      new Key("state.idle-timeout.ms", "1800000", "A run silent this long has its state dropped and its alerts resolved."),
      new Key("source.starting-offsets", "committed", "committed (fall back to earliest), earliest or latest."),
      new Key("alerts.delivery-guarantee", "exactly-once", "exactly-once (Kafka transactions, visible at checkpoints) "
          + "or at-least-once (visible in milliseconds; downstream dedups by fingerprint)."));

  private static final List<String> PREFIXES =
      List.of("kafka.consumer.", "kafka.producer.", "kafka.common.", "detector.");

  public JobConfig {
    values = new TreeMap<>(values);
    for (String k : values.keySet()) {
      if (KEYS.stream().noneMatch(key -> key.name().equals(k)) && PREFIXES.stream().noneMatch(k::startsWith)) {
        throw new IllegalArgumentException("unknown configuration key '" + k + "'; known keys: "
            + KEYS.stream().map(Key::name).toList() + " and the prefixes " + PREFIXES);
      }
    }
    for (Key k : KEYS) {
      if (k.dflt() == null && !values.containsKey(k.name())) {
        throw new IllegalArgumentException("configuration key '" + k.name() + "' is required: " + k.doc());
      }
    }
  }

  /** Loads defaults, then the file (if any), then environment, then overrides. */
  public static JobConfig load(Path file, Map<String, String> env, Map<String, String> overrides) throws IOException {
    Map<String, String> v = new LinkedHashMap<>();
    for (Key k : KEYS) {
      if (k.dflt() != null) {
        v.put(k.name(), k.dflt());
      }
    }
    if (file != null) {
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(file)) {
        p.load(r);
      }
      p.forEach((k, val) -> v.put(k.toString().trim(), val.toString().trim()));
    }
    for (Key k : KEYS) {
      String e = env.get(envName(k.name()));
      if (e != null) {
        v.put(k.name(), e);
      }
    }
    v.putAll(overrides);
    return new JobConfig(v);
  }

  public static JobConfig of(Map<String, String> overrides) {
    try {
      return load(null, Map.of(), overrides);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
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
      throw new IllegalArgumentException("configuration key '" + key + "': expected an integer, got '" + values.get(key) + "'");
    }
  }

  /** {@code checkpoint.dir} as a URI Flink's file systems take: a plain path becomes {@code file://}. */
  public String checkpointUri() {
    String dir = get("checkpoint.dir").trim();
    if (dir.isEmpty()) {
      throw new IllegalArgumentException("configuration key 'checkpoint.dir': must not be empty");
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
    return new Topics(get("topics.telemetry"), get("topics.alerts"), get("topics.dead-letter"), get("topics.metrics"));
  }

  /** Client properties for one side ("consumer" or "producer"): common first, then specific. */
  public Properties clientProperties(String side) {
    Properties p = new Properties();
    values.forEach((k, v) -> {
      if (k.startsWith("kafka.common.")) {
        p.setProperty(k.substring("kafka.common.".length()), v);
      }
    });
    String prefix = "kafka." + side + ".";
    values.forEach((k, v) -> {
      if (k.startsWith(prefix)) {
        p.setProperty(k.substring(prefix.length()), v);
      }
    });
    return p;
  }

  public DetectorConfig detectorConfig() {
    Map<String, String> d = new TreeMap<>();
    values.forEach((k, v) -> {
      if (k.startsWith("detector.")) {
        d.put(k.substring("detector.".length()), v);
      }
    });
    return new DetectorConfig(new Settings(d));
  }
}
