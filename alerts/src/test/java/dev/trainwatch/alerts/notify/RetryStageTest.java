package dev.trainwatch.alerts.notify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.alerts.TestReceiver;
import dev.trainwatch.alerts.config.AlertsConfig.Retry;
import dev.trainwatch.alerts.config.Receiver;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.metrics.AlertsMetrics.Counter;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class RetryStageTest {

  private final AlertsMetrics metrics = new AlertsMetrics();
  private final List<Duration> waits = new ArrayList<>();
  private final Retry retry =
      new Retry(
          Duration.ofMillis(100), Duration.ofMillis(1000), 2.0, 0.0, 10, Duration.ofMinutes(5));

  private RetryStage stage(Retry r) {
    return new RetryStage(
        r, new Backoff(r, () -> 0.5), InstantSource.system(), waits::add, metrics);
  }

  @Test
  void receiverFailingThreeTimesIsDeliveredOnceAfterThreeRetries() throws Exception {
    try (TestReceiver rx = new TestReceiver().failFirst(3, 503)) {
      Receiver.Webhook r =
          new Receiver.Webhook(
              "team", rx.url(), Duration.ofSeconds(5), null, null, true, 0, Map.of());
      HttpNotifier n =
          new HttpNotifier(r, HttpClient.newHttpClient(), x -> Payloads.webhookV4(x, 0));

      DeliveryResult result = stage(retry).run(n, HttpNotifierTest.notification());

      assertThat(result).isInstanceOf(DeliveryResult.Delivered.class);
      assertThat(rx.requests()).hasSize(4);
      assertThat(rx.delivered()).hasSize(1);
      assertThat(metrics.get(Counter.RETRIED, "team")).isEqualTo(3);
      assertThat(waits)
          .containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(400));
    }
  }

  @Test
  void slowReceiverTimesOutIsRetriedAndThenDelivered() throws Exception {
    try (TestReceiver rx = new TestReceiver().delay(Duration.ofSeconds(3))) {
      Receiver.Webhook r =
          new Receiver.Webhook(
              "team", rx.url(), Duration.ofMillis(200), null, null, true, 0, Map.of());
      HttpNotifier n =
          new HttpNotifier(r, HttpClient.newHttpClient(), x -> Payloads.webhookV4(x, 0));
      RetryStage stage =
          new RetryStage(
              retry,
              new Backoff(retry, () -> 0.5),
              InstantSource.system(),
              d -> rx.delay(Duration.ZERO),
              metrics); // the receiver recovers while we back off

      DeliveryResult result = stage.run(n, HttpNotifierTest.notification());

      assertThat(result).isInstanceOf(DeliveryResult.Delivered.class);
      assertThat(metrics.get(Counter.RETRIED, "team")).isEqualTo(1);
    }
  }

  @Test
  void givesUpAsPermanentAfterMaxAttemptsWithTheLastReason() throws Exception {
    Retry three =
        new Retry(Duration.ofMillis(1), Duration.ofMillis(1), 2.0, 0.0, 3, Duration.ofMinutes(1));
    Notifier alwaysDown =
        new Notifier() {
          public DeliveryResult send(Notification n) {
            return new DeliveryResult.Retryable("HTTP 502");
          }

          public byte[] body(Notification n) {
            return new byte[0];
          }
        };
    DeliveryResult r = stage(three).run(alwaysDown, HttpNotifierTest.notification());

    assertThat(r).isInstanceOf(DeliveryResult.Permanent.class);
    assertThat(r.describe()).contains("gave up after 3 attempts").contains("HTTP 502");
    assertThat(metrics.get(Counter.RETRIED, "team")).isEqualTo(2);
  }

  @Test
  void backoffGrowsExponentiallyCapsAndJitters() {
    Retry r =
        new Retry(
            Duration.ofMillis(100), Duration.ofMillis(500), 2.0, 0.2, 10, Duration.ofMinutes(1));
    assertThat(new Backoff(r, () -> 0.5).delay(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(new Backoff(r, () -> 0.5).delay(10)).isEqualTo(Duration.ofMillis(500));
    assertThat(new Backoff(r, () -> 0.0).delay(2)).isEqualTo(Duration.ofMillis(160));
    assertThat(new Backoff(r, () -> 1.0).delay(2)).isEqualTo(Duration.ofMillis(240));
  }
}
