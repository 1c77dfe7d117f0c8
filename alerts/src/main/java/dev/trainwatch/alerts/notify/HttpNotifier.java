package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.config.Receiver;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.InstantSource;
import java.util.function.Function;

/**
 * POSTs a JSON body to a receiver URL with the receiver's per-request timeout, optional {@code
 * Authorization: Bearer} token, optional signature ({@link WebhookSignature}: timestamp and
 * HMAC-SHA256 over timestamp and body, keyed by the receiver's secret, fresh per attempt) and extra
 * headers, and classifies the outcome with {@link DeliveryResult#ofStatus}.
 */
public final class HttpNotifier implements Notifier {

  public static final String SIGNATURE_HEADER = WebhookSignature.SIGNATURE_HEADER;

  private final Receiver.Http receiver;
  private final HttpClient client;
  private final Function<Notification, byte[]> format;
  private final InstantSource clock;

  public HttpNotifier(
      Receiver.Http receiver, HttpClient client, Function<Notification, byte[]> format) {
    this(receiver, client, format, InstantSource.system());
  }

  public HttpNotifier(
      Receiver.Http receiver,
      HttpClient client,
      Function<Notification, byte[]> format,
      InstantSource clock) {
    this.receiver = receiver;
    this.client = client;
    this.format = format;
    this.clock = clock;
  }

  @Override
  public byte[] body(Notification n) {
    return format.apply(n);
  }

  @Override
  public DeliveryResult send(Notification n) throws InterruptedException {
    byte[] body = body(n);
    HttpRequest.Builder req =
        HttpRequest.newBuilder(URI.create(receiver.url()))
            .timeout(receiver.timeout())
            .header("Content-Type", "application/json")
            .header("User-Agent", "trainwatch-alerts")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    receiver.headers().forEach(req::header);
    if (receiver.bearerToken() != null) {
      req.header("Authorization", "Bearer " + receiver.bearerToken());
    }
    if (receiver.hmacSecret() != null) {
      long ts = clock.instant().getEpochSecond();
      req.header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(ts));
      req.header(SIGNATURE_HEADER, WebhookSignature.sign(receiver.hmacSecret(), ts, body));
    }
    try {
      HttpResponse<String> resp = client.send(req.build(), HttpResponse.BodyHandlers.ofString());
      String snippet = resp.body() == null ? "" : resp.body().strip();
      return DeliveryResult.ofStatus(
          resp.statusCode(), snippet.length() > 200 ? snippet.substring(0, 200) : snippet);
    } catch (HttpTimeoutException e) {
      return new DeliveryResult.Retryable("timeout after " + receiver.timeout().toMillis() + " ms");
    } catch (IOException e) {
      return new DeliveryResult.Retryable("I/O error: " + e);
    }
  }
}
