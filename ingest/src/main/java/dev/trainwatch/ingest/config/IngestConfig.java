package dev.trainwatch.ingest.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The sidecar's configuration: every key declared once below with type, default, valid range and
 * doc ({@link Key}), checked at start-up.
 *
 * <p>Sources, later wins: defaults, a properties file, the environment ({@code
 * TRAINWATCH_INGEST_HTTP_PORT=9000} sets {@code http.port}), then explicit overrides (command-line
 * options). Kafka client settings pass through by prefix as in strimzi-kafka-bridge: {@code
 * kafka.producer.acks=1} becomes the producer's {@code acks=1}, and {@code
 * kafka.security.protocol=SASL_SSL} (any {@code kafka.*} key that is not declared here) reaches the
 * producer too, so TLS and SASL need no code. The environment is passed in as a map so tests inject
 * their own.
 *
 * <pre>{@code
 * IngestConfig c = IngestConfig.load(Path.of("ingest.properties"), System.getenv(), Map.of());
 * int port = c.getInt(IngestConfig.HTTP_PORT);
 * }</pre>
 */
public final class IngestConfig {

  public static final String ENV_PREFIX = "TRAINWATCH_INGEST_";
  public static final String KAFKA_PREFIX = "kafka.";
  public static final String PRODUCER_PREFIX = "kafka.producer.";
  public static final String CONSUMER_PREFIX = "kafka.consumer.";

  public static final Key HTTP_BIND =
      Key.string(
          "http.bind",
          "127.0.0.1",
          "address the HTTP input binds to; loopback by default so only the training job can post");
  public static final Key HTTP_PORT =
      Key.integer(
          "http.port",
          8787,
          -1,
          65535,
          "HTTP input port; 0 picks a free port, -1 disables the HTTP input");
  public static final Key HTTP_TOKEN =
      Key.string(
          "http.token",
          null,
          "bearer token required on POST /v1/records and GET /metrics when set");
  public static final Key HTTP_MAX_BODY_BYTES =
      Key.integer(
          "http.max.body.bytes",
          16 << 20,
          1,
          "largest accepted request body; larger bodies get 413");
  public static final Key HTTP_ACK_DURABLE_MS =
      Key.integer(
          "http.ack.durable.ms",
          0,
          0,
          "when > 0, POST answers only once every accepted record is in Kafka or the disk spool, "
              + "waiting at most this long (then 503 + Retry-After, accepted 0; keep it below the "
              + "client's timeout, 5 s in the Python client); 0 answers once the records are queued "
              + "in memory, and a SIGKILL of the sidecar loses what is still queued");
  public static final Key HTTP_THREADS =
      Key.integer(
          "http.threads",
          8,
          1,
          1024,
          "threads that handle requests; beyond them 64 requests wait, then 503 (slow clients hold no thread)");
  public static final Key HTTP_IDLE_TIMEOUT_MS =
      Key.integer(
          "http.idle.timeout.ms",
          30000,
          1,
          "a connection that sends nothing for this long is closed");
  public static final Key HTTP_REQUEST_TIMEOUT_MS =
      Key.integer(
          "http.request.timeout.ms",
          10000,
          1,
          "a request body must arrive within this long, else 408");
  public static final Key HTTP_MAX_CONNECTIONS =
      Key.integer(
          "http.max.connections",
          1024,
          1,
          "open connections at most; further ones wait to be accepted");
  public static final Key RECORD_MAX_BYTES =
      Key.integer(
          "record.max.bytes",
          1000000,
          1,
          "largest accepted record (one JSON line); larger lines are rejected (413 over HTTP). "
              + "Must leave "
              + "2048 bytes of the producer's max.request.size (1,048,576 by default) for the key "
              + "and Kafka's record overhead, and stay below the topic's max.message.bytes");
  public static final Key TAIL_FILE =
      Key.string(
          "tail.file",
          null,
          "JSON Lines file written by the trainer to follow (complete lines only)");
  public static final Key TAIL_CHECKPOINT =
      Key.string(
          "tail.checkpoint",
          null,
          "where the tail's inode and byte offset are kept; default <spool.dir>/tail.checkpoint");
  public static final Key TAIL_POLL_MS =
      Key.integer(
          "tail.poll.ms",
          200,
          1,
          "how often the tailed file is checked for new bytes, rotation and truncation");
  public static final Key STDIN = Key.bool("stdin", false, "read JSON Lines from standard input");
  public static final Key BOOTSTRAP_SERVERS =
      Key.string("kafka.bootstrap.servers", "localhost:9092", "Kafka bootstrap servers");
  public static final Key TOPIC =
      Key.string("topic", "trainwatch.telemetry", "telemetry topic; records are keyed by run");
  public static final Key TOPIC_BINARY =
      Key.bool(
          "topic.binary",
          true,
          "write valid records to the telemetry topic in the compact binary form of the validated "
              + "record (a quarter of the JSON's size for per-layer records; the detection job reads it "
              + "without parsing again); false writes each line as received. The job reads both, so "
              + "JSON from other producers may share the topic");
  public static final Key DEAD_LETTER_TOPIC =
      Key.string(
          "dead.letter.topic",
          "trainwatch.dead-letter",
          "topic of rejected input (DeadLetter JSON)");
  public static final Key QUEUE_CAPACITY =
      Key.integer(
          "queue.capacity",
          20000,
          1,
          "records held in memory between the inputs and Kafka; HTTP answers 503 when full");
  public static final Key QUEUE_MAX_BYTES =
      Key.longInteger(
          "queue.max.bytes",
          64L << 20,
          1,
          "bytes of records held in memory between the inputs and Kafka (64 MiB); HTTP answers 503 when full");
  public static final Key SPOOL_DIR =
      Key.string(
          "spool.dir",
          "trainwatch-spool",
          "directory of the disk spool used while Kafka is unreachable");
  public static final Key SPOOL_SEGMENT_BYTES =
      Key.longInteger(
          "spool.segment.bytes", 64L << 20, 1, "size at which the spool starts a new segment file");
  public static final Key SPOOL_MAX_BYTES =
      Key.longInteger(
          "spool.max.bytes",
          4L << 30,
          1,
          "spool size limit; beyond it new records are dropped and counted");
  public static final Key PROBE_INTERVAL_MS =
      Key.integer(
          "kafka.probe.interval.ms",
          1000,
          1,
          "how often an unreachable Kafka is probed before the spool is drained");

  public static final Key ALERTS_FEED =
      Key.bool(
          "alerts.feed",
          true,
          "serve GET /v1/runs/{run}/alerts (long poll) from the alerts topic, so the training process "
              + "sees its run's alerts; a consumer reads the topic read_committed");
  public static final Key ALERTS_TOPIC =
      Key.string(
          "alerts.topic", "trainwatch.alerts", "the topic the detection job writes alerts to");
  public static final Key ALERTS_LOOKBACK_MS =
      Key.longInteger(
          "alerts.lookback.ms",
          86400000L,
          0,
          "at start-up, alerts this far back (24 h) are read, so the active alerts of runs already going are known");
  public static final Key ALERTS_MAX_RUNS =
      Key.integer(
          "alerts.max.runs",
          10000,
          1,
          "runs whose alerts are kept in memory (the least recently alerted beyond it are forgotten)");
  public static final Key ALERTS_MAX_WAIT_MS =
      Key.integer(
          "alerts.max.wait.ms",
          25000,
          1,
          "longest hold of a long poll (the client asks for 20 s); kept below http.idle.timeout.ms");

  public static final List<Key> KEYS =
      List.of(
          HTTP_BIND,
          HTTP_PORT,
          HTTP_TOKEN,
          HTTP_MAX_BODY_BYTES,
          HTTP_ACK_DURABLE_MS,
          HTTP_THREADS,
          HTTP_IDLE_TIMEOUT_MS,
          HTTP_REQUEST_TIMEOUT_MS,
          HTTP_MAX_CONNECTIONS,
          RECORD_MAX_BYTES,
          TAIL_FILE,
          TAIL_CHECKPOINT,
          TAIL_POLL_MS,
          STDIN,
          BOOTSTRAP_SERVERS,
          TOPIC,
          TOPIC_BINARY,
          DEAD_LETTER_TOPIC,
          QUEUE_CAPACITY,
          QUEUE_MAX_BYTES,
          SPOOL_DIR,
          SPOOL_SEGMENT_BYTES,
          SPOOL_MAX_BYTES,
          PROBE_INTERVAL_MS,
          ALERTS_FEED,
          ALERTS_TOPIC,
          ALERTS_LOOKBACK_MS,
          ALERTS_MAX_RUNS,
          ALERTS_MAX_WAIT_MS);

  /**
   * Bytes of the producer's max.request.size a record may not use: the key (a run of up to 256
   * characters, 768 bytes of UTF-8), the batch header (61) and the record header (up to 21), with
   * margin. A record the producer would refuse must be refused at intake, never acknowledged.
   */
  public static final int KAFKA_RECORD_OVERHEAD = 2048;

  private final Map<String, String> values;

  private IngestConfig(Map<String, String> values) {
    this.values = values;
    for (String name : values.keySet()) {
      if (!name.startsWith(KAFKA_PREFIX) && KEYS.stream().noneMatch(k -> k.name().equals(name))) {
        throw new ConfigException(
            name
                + ": unknown key. Fix: use one of "
                + KEYS.stream().map(Key::name).toList()
                + " or a kafka.* client setting");
      }
    }
    for (Key k : KEYS) {
      String raw = values.get(k.name());
      if (raw != null) {
        k.parse(raw); // fail at start-up, not at first use
      }
    }
    if (getInt(ALERTS_MAX_WAIT_MS) >= getInt(HTTP_IDLE_TIMEOUT_MS)) {
      throw new ConfigException(
          ALERTS_MAX_WAIT_MS.name()
              + " = "
              + getInt(ALERTS_MAX_WAIT_MS)
              + " must be below "
              + HTTP_IDLE_TIMEOUT_MS.name()
              + " = "
              + getInt(HTTP_IDLE_TIMEOUT_MS)
              + ": a long poll held that long would be cut off as an idle connection");
    }
    String maxRequest = kafkaClientSettings().getOrDefault("max.request.size", "1048576");
    long limit;
    try {
      limit = Long.parseLong(maxRequest.trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(
          "kafka.producer.max.request.size: expected an integer, got '" + maxRequest + "'");
    }
    long record = getInt(RECORD_MAX_BYTES);
    if (record + KAFKA_RECORD_OVERHEAD > limit) {
      throw new ConfigException(
          RECORD_MAX_BYTES.name()
              + " = "
              + record
              + " does not fit the producer's "
              + "max.request.size = "
              + limit
              + " with "
              + KAFKA_RECORD_OVERHEAD
              + " bytes for the key and Kafka's "
              + "record overhead: Kafka would refuse such records after the sidecar acknowledged them. Fix: lower "
              + RECORD_MAX_BYTES.name()
              + " to at most "
              + (limit - KAFKA_RECORD_OVERHEAD)
              + " or raise kafka.producer.max.request.size (and the topic's max.message.bytes)");
    }
  }

  /** Defaults, then the file (may be null), then env, then overrides. */
  public static IngestConfig load(
      Path file, Map<String, String> env, Map<String, String> overrides) {
    Map<String, String> v = new LinkedHashMap<>();
    for (Key k : KEYS) {
      if (k.defaultValue() != null) {
        v.put(k.name(), k.defaultValue());
      }
    }
    if (file != null) {
      v.putAll(readFile(file));
    }
    v.putAll(fromEnv(env));
    overrides.forEach(
        (k, val) -> {
          if (val != null) {
            v.put(k, val);
          }
        });
    return new IngestConfig(v);
  }

  public static IngestConfig of(Map<String, String> overrides) {
    return load(null, Map.of(), overrides);
  }

  private static Map<String, String> readFile(Path file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file)) {
      p.load(r);
    } catch (IOException e) {
      throw new ConfigException(
          "--config "
              + file
              + ": cannot read ("
              + e.getMessage()
              + "). Fix: pass a readable properties file");
    }
    Map<String, String> out = new LinkedHashMap<>();
    p.stringPropertyNames().forEach(n -> out.put(n, p.getProperty(n)));
    return out;
  }

  /** TRAINWATCH_INGEST_KAFKA_PRODUCER_ACKS -> kafka.producer.acks (strimzi's convention). */
  static Map<String, String> fromEnv(Map<String, String> env) {
    Map<String, String> out = new LinkedHashMap<>();
    env.forEach(
        (name, value) -> {
          if (name.startsWith(ENV_PREFIX) && name.length() > ENV_PREFIX.length()) {
            out.put(name.substring(ENV_PREFIX.length()).toLowerCase().replace('_', '.'), value);
          }
        });
    return out;
  }

  public String getString(Key k) {
    return values.get(k.name());
  }

  public int getInt(Key k) {
    return (Integer) k.parse(require(k));
  }

  public long getLong(Key k) {
    return (Long) k.parse(require(k));
  }

  public boolean getBoolean(Key k) {
    return (Boolean) k.parse(require(k));
  }

  private String require(Key k) {
    String v = values.get(k.name());
    if (v == null) {
      throw new ConfigException(
          k.name()
              + " is not set. Fix: set it in the config file or "
              + k.envName()
              + " ("
              + k.doc()
              + ")");
    }
    return v;
  }

  /**
   * Kafka client settings given by prefix: {@code kafka.producer.X} and undeclared {@code kafka.X}
   * become {@code X}; the producer prefix wins on conflicts.
   */
  public Map<String, String> kafkaClientSettings() {
    return clientSettings(PRODUCER_PREFIX, CONSUMER_PREFIX);
  }

  /**
   * Settings of the alerts consumer: the common {@code kafka.*} ones (bootstrap, security) and
   * {@code kafka.consumer.*} with the prefix removed; no producer setting.
   */
  public Map<String, String> kafkaConsumerSettings() {
    return clientSettings(CONSUMER_PREFIX, PRODUCER_PREFIX);
  }

  /** Common {@code kafka.X} (not declared here, bootstrap aside), then {@code own} on top. */
  private Map<String, String> clientSettings(String own, String other) {
    Map<String, String> common = new TreeMap<>();
    Map<String, String> specific = new TreeMap<>();
    values.forEach(
        (k, v) -> {
          if (k.startsWith(own)) {
            specific.put(k.substring(own.length()), v);
          } else if (!k.startsWith(other)
              && k.startsWith(KAFKA_PREFIX)
              && KEYS.stream().noneMatch(d -> d.name().equals(k) && !d.equals(BOOTSTRAP_SERVERS))) {
            common.put(k.substring(KAFKA_PREFIX.length()), v);
          }
        });
    common.putAll(specific);
    return common;
  }
}
