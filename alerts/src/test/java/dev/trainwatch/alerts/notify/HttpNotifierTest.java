package dev.trainwatch.alerts.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainwatch.alerts.Fixtures;
import dev.trainwatch.alerts.TestReceiver;
import dev.trainwatch.alerts.config.Receiver;
import dev.trainwatch.alerts.model.Alert;
import dev.trainwatch.wire.Family;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class HttpNotifierTest {

  private final TestReceiver receiver;
  private final HttpClient client = HttpClient.newHttpClient();

  HttpNotifierTest() throws Exception {
    receiver = new TestReceiver();
  }

  @AfterEach
  void stop() {
    receiver.close();
  }

  private Receiver.Webhook webhook(String bearer, String hmac, Duration timeout) {
    return new Receiver.Webhook(
        "team", receiver.url(), timeout, bearer, hmac, true, 0, Map.of("X-Team", "ml"));
  }

  static Notification notification() {
    Alert a =
        Alert.from(
            Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 100), null, Fixtures.START);
    Alert b =
        Alert.from(
            Fixtures.critical("run-1", Family.INSTABILITY, "loss_spike", 120),
            null,
            Fixtures.START);
    return new Notification(
        "{}:{family=\"instability\",run=\"run-1\"}",
        "team",
        Map.of("run", "run-1", "family", "instability"),
        List.of(a, b),
        "http://127.0.0.1:9095");
  }

  private HttpNotifier notifier(Receiver.Webhook r) {
    return new HttpNotifier(r, client, n -> Payloads.webhookV4(n, r.maxAlerts()));
  }

  @Test
  void signatureCoversTimestampAndBodyAndExpiresAfterTheWindow() throws Exception {
    Instant sentAt = Instant.parse("2026-11-25T12:00:00Z");
    Receiver.Webhook r = webhook(null, "s3cret", Duration.ofSeconds(5));
    DeliveryResult res =
        new HttpNotifier(r, client, n -> Payloads.webhookV4(n, 0), InstantSource.fixed(sentAt))
            .send(notification());

    assertThat(res).isInstanceOf(DeliveryResult.Delivered.class);
    TestReceiver.Request req = receiver.requests().get(0);
    String ts = req.header(WebhookSignature.TIMESTAMP_HEADER);
    String sig = req.header(WebhookSignature.SIGNATURE_HEADER);
    byte[] body = req.body().getBytes(StandardCharsets.UTF_8);
    assertThat(ts).isEqualTo(Long.toString(sentAt.getEpochSecond()));
    assertThat(sig).startsWith("v1=").hasSize(3 + 64);
    Duration window = WebhookSignature.DEFAULT_WINDOW;
    assertThat(WebhookSignature.verify("s3cret", ts, sig, body, sentAt.plusSeconds(299), window))
        .isEqualTo(WebhookSignature.Verdict.VALID);
    // a captured request replayed after the window, or with its timestamp moved forward, fails
    assertThat(WebhookSignature.verify("s3cret", ts, sig, body, sentAt.plusSeconds(301), window))
        .isEqualTo(WebhookSignature.Verdict.EXPIRED);
    assertThat(
            WebhookSignature.verify(
                "s3cret",
                Long.toString(sentAt.getEpochSecond() + 300),
                sig,
                body,
                sentAt.plusSeconds(301),
                window))
        .isEqualTo(WebhookSignature.Verdict.BAD_SIGNATURE);
    byte[] tampered = req.body().replace("run-1", "run-2").getBytes(StandardCharsets.UTF_8);
    assertThat(WebhookSignature.verify("s3cret", ts, sig, tampered, sentAt, window))
        .isEqualTo(WebhookSignature.Verdict.BAD_SIGNATURE);
    assertThat(WebhookSignature.verify("other", ts, sig, body, sentAt, window))
        .isEqualTo(WebhookSignature.Verdict.BAD_SIGNATURE);
    assertThat(WebhookSignature.verify("s3cret", null, sig, body, sentAt, window))
        .isEqualTo(WebhookSignature.Verdict.MISSING);
    assertThat(req.header("Authorization")).isNull();
    assertThat(req.header("X-Team")).isEqualTo("ml");
  }

  @Test
  void bearerTokenIsSentAsAuthorizationHeader() throws Exception {
    notifier(webhook("tok-123", null, Duration.ofSeconds(5))).send(notification());

    assertThat(receiver.requests().get(0).header("Authorization")).isEqualTo("Bearer tok-123");
    assertThat(receiver.requests().get(0).header(HttpNotifier.SIGNATURE_HEADER)).isNull();
  }

  @Test
  void classifiesServerErrorsAnd429AsRetryableAndOther4xxAsPermanent() throws Exception {
    HttpNotifier n = notifier(webhook(null, null, Duration.ofSeconds(5)));
    receiver.answer(503);
    assertThat(n.send(notification())).isInstanceOf(DeliveryResult.Retryable.class);
    receiver.answer(429);
    assertThat(n.send(notification())).isInstanceOf(DeliveryResult.Retryable.class);
    receiver.answer(400);
    DeliveryResult bad = n.send(notification());
    assertThat(bad).isInstanceOf(DeliveryResult.Permanent.class);
    assertThat(bad.describe()).contains("HTTP 400");
    receiver.answer(204);
    assertThat(n.send(notification())).isEqualTo(new DeliveryResult.Delivered(204));
  }

  @Test
  void slowReceiverTimesOutAsRetryable() throws Exception {
    receiver.delay(Duration.ofMillis(5000));
    long t0 = System.nanoTime();
    DeliveryResult r = notifier(webhook(null, null, Duration.ofMillis(200))).send(notification());

    assertThat(r).isInstanceOf(DeliveryResult.Retryable.class);
    assertThat(r.describe()).contains("timeout");
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .isLessThan(Duration.ofMillis(4000)) /* well before the 5 s answer */;
  }

  @Test
  void connectionRefusedIsRetryable() throws Exception {
    Receiver.Webhook r =
        new Receiver.Webhook(
            "x", "http://127.0.0.1:1/hook", Duration.ofSeconds(1), null, null, true, 0, Map.of());
    assertThat(notifier(r).send(notification())).isInstanceOf(DeliveryResult.Retryable.class);
  }

  @Test
  void webhookPayloadHasAlertmanagerV4Shape() throws Exception {
    notifier(webhook(null, null, Duration.ofSeconds(5))).send(notification());

    JsonNode p = new ObjectMapper().readTree(receiver.requests().get(0).body());
    assertThat(p.get("version").asText()).isEqualTo("4");
    assertThat(p.get("groupKey").asText()).isEqualTo("{}:{family=\"instability\",run=\"run-1\"}");
    assertThat(p.get("truncatedAlerts").asInt()).isZero();
    assertThat(p.get("status").asText()).isEqualTo("firing");
    assertThat(p.get("receiver").asText()).isEqualTo("team");
    assertThat(p.get("groupLabels").get("run").asText()).isEqualTo("run-1");
    assertThat(p.get("commonLabels").get("family").asText()).isEqualTo("instability");
    assertThat(p.get("commonLabels").has("severity")).isFalse();
    assertThat(p.get("externalURL").asText()).isEqualTo("http://127.0.0.1:9095");
    JsonNode a = p.get("alerts").get(0);
    assertThat(a.get("status").asText()).isEqualTo("firing");
    assertThat(a.get("labels").get("alertname").asText()).isEqualTo("grad_norm");
    assertThat(a.get("labels").get("severity").asText()).isEqualTo("warning");
    assertThat(a.get("annotations").get("summary").asText()).isEqualTo("grad_norm warns on run-1");
    assertThat(a.get("annotations").get("evidence").asText()).isEqualTo("{\"value\":1.5}");
    assertThat(a.get("annotations").get("step").asText()).isEqualTo("100");
    assertThat(a.get("startsAt").asText()).isEqualTo("2026-11-25T12:00:00.100Z");
    assertThat(a.get("endsAt").asText()).isEqualTo("0001-01-01T00:00:00Z");
    assertThat(a.get("fingerprint").asText()).hasSize(16);
  }

  @Test
  void maxAlertsTruncatesAndCountsTheRest() throws Exception {
    JsonNode p = new ObjectMapper().readTree(Payloads.webhookV4(notification(), 1));
    assertThat(p.get("alerts")).hasSize(1);
    assertThat(p.get("truncatedAlerts").asInt()).isEqualTo(1);
  }

  @Test
  void alertmanagerFiringAlertsEndFourResendIntervalsAheadAndResolvedOnesNoLaterThanNow()
      throws Exception {
    Instant now = Fixtures.START.plusSeconds(600);
    Notification n = notification();
    Alert resolved =
        Alert.from(
            Fixtures.resolved(Fixtures.warning("run-1", Family.INSTABILITY, "grad_norm", 100), 150),
            n.alerts().get(0),
            Fixtures.START);
    Notification at =
        new Notification(
            n.groupKey(),
            n.receiver(),
            n.groupLabels(),
            List.of(n.alerts().get(1), resolved),
            n.externalUrl(),
            n.links(),
            now);

    JsonNode p = new ObjectMapper().readTree(Payloads.alertmanagerV2(at, Duration.ofMinutes(1)));

    assertThat(p.isArray()).isTrue();
    assertThat(p.get(0).get("labels").get("severity").asText()).isEqualTo("critical");
    assertThat(Instant.parse(p.get(0).get("endsAt").asText()))
        .isEqualTo(now.plus(Duration.ofMinutes(4)));
    assertThat(Instant.parse(p.get(1).get("endsAt").asText()))
        .isEqualTo(Fixtures.START.plusMillis(150));
    assertThat(Instant.parse(p.get(1).get("endsAt").asText())).isBeforeOrEqualTo(now);
  }

  @Test
  void slackMessageHasTextAndOneAttachmentPerAlert() throws Exception {
    JsonNode p = new ObjectMapper().readTree(Payloads.slack(notification(), 0));
    assertThat(p.get("text").asText()).startsWith("[FIRING:2] team");
    assertThat(p.get("attachments")).hasSize(2);
    assertThat(p.get("attachments").get(1).get("color").asText()).isEqualTo("danger");
  }
}
