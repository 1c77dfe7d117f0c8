package dev.trainwatch.jobs.storage;

import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.influxdb.InfluxDB;
import org.influxdb.InfluxDBException;
import org.influxdb.InfluxDBFactory;
import org.influxdb.InfluxDBIOException;
import org.influxdb.dto.Query;

/**
 * {@link BatchWriter} over influxdb-java (InfluxDB 1.x {@code /write}, nanosecond precision,
 * consistency ALL). Batching, retries and backpressure live in {@link InfluxSinkWriter}; the
 * client's own batching is left off so a failure surfaces on the batch that caused it.
 */
public final class InfluxBatchWriter implements BatchWriter {

  private final InfluxDB client;
  private final String database;
  private final String retentionPolicy;

  public InfluxBatchWriter(InfluxSinkConfig config) {
    OkHttpClient.Builder http =
        new OkHttpClient.Builder()
            .connectTimeout(5, TimeUnit.SECONDS)
            .readTimeout(30, TimeUnit.SECONDS)
            .writeTimeout(30, TimeUnit.SECONDS);
    this.client =
        config.username() == null
            ? InfluxDBFactory.connect(config.url(), http)
            : InfluxDBFactory.connect(config.url(), config.username(), config.password(), http);
    this.database = config.database();
    this.retentionPolicy = config.retentionPolicy();
    if (config.createDatabase()) {
      // Idempotent in InfluxQL: a no-op when the database exists.
      client.query(new Query("CREATE DATABASE \"" + database.replace("\"", "\\\"") + "\""));
    }
  }

  @Override
  public WriteOutcome write(List<String> lines) {
    try {
      client.write(
          database, retentionPolicy, InfluxDB.ConsistencyLevel.ALL, TimeUnit.NANOSECONDS, lines);
      return new WriteOutcome.Delivered();
    } catch (RuntimeException e) {
      return classify(e);
    }
  }

  /**
   * 2xx delivered; I/O and 5xx retry; bad points are rejected; auth and missing database are fatal.
   */
  static WriteOutcome classify(RuntimeException e) {
    String msg = String.valueOf(e.getMessage());
    if (e instanceof InfluxDBIOException) {
      return new WriteOutcome.Retryable("I/O: " + msg);
    }
    if (e instanceof InfluxDBException.AuthorizationFailedException
        || e instanceof InfluxDBException.DatabaseNotFoundException) {
      return new WriteOutcome.Fatal(msg);
    }
    if (e instanceof InfluxDBException.FieldTypeConflictException
        || e instanceof InfluxDBException.UnableToParseException
        || e instanceof InfluxDBException.PointsBeyondRetentionPolicyException) {
      return new WriteOutcome.Rejected(msg);
    }
    if (e instanceof InfluxDBException ie) {
      return ie.isRetryWorth() ? new WriteOutcome.Retryable(msg) : new WriteOutcome.Rejected(msg);
    }
    return new WriteOutcome.Retryable(e.getClass().getSimpleName() + ": " + msg);
  }

  @Override
  public void close() {
    client.close();
  }
}
