package dev.trainwatch.ingest.kafka;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.producer.ProducerConfig;

/** Asks the cluster for its nodes with a short deadline: true when a broker answers. */
public final class KafkaProbe implements BooleanSupplier, AutoCloseable {

  private final Admin admin;
  private final int timeoutMs;

  public KafkaProbe(Properties producerSettings, int timeoutMs) {
    Properties p = new Properties();
    // the admin client only needs connection and security settings
    producerSettings.forEach(
        (k, v) -> {
          String key = (String) k;
          if (AdminClientConfig.configNames().contains(key)
              && !key.equals(ProducerConfig.CLIENT_ID_CONFIG)) {
            p.put(key, v);
          }
        });
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "trainwatch-ingest-probe");
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(timeoutMs));
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(timeoutMs));
    this.admin = Admin.create(p);
    this.timeoutMs = timeoutMs;
  }

  @Override
  public boolean getAsBoolean() {
    try {
      return !admin
          .describeCluster(new DescribeClusterOptions().timeoutMs(timeoutMs))
          .nodes()
          .get(timeoutMs + 500L, TimeUnit.MILLISECONDS)
          .isEmpty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception e) {
      return false;
    }
  }

  @Override
  public void close() {
    admin.close(Duration.ofSeconds(2));
  }
}
