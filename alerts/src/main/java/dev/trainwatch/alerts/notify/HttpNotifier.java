package dev.trainwatch.alerts.notify;

import dev.trainwatch.alerts.config.AlertsConfig.Receiver;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * POSTs a JSON body to a receiver URL with the receiver's per-request timeout, optional
 * {@code Authorization: Bearer} token, optional {@value #SIGNATURE_HEADER} ({@code sha256=} hex
 * HMAC-SHA256 of the exact body bytes, keyed by the receiver's secret) and extra headers, and
 * classifies the outcome with {@link DeliveryResult#ofStatus}.
 */
public final class HttpNotifier implements Notifier {

  public static final String SIGNATURE_HEADER = "X-Trainwatch-Signature";

  private final Receiver receiver;
  private final HttpClient client;
  private final Function<Notification, byte[]> format;

  public HttpNotifier(Receiver receiver, HttpClient client, Function<Notification, byte[]> format) {
    this.receiver = receiver;
    this.client = client;
    this.format = format;
  }

  @Override
  public byte[] body(Notification n) {
    return format.apply(n);
  }

  @Override
  public DeliveryResult send(Notification n) throws InterruptedException {
    byte[] body = body(n);
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(receiver.url()))
        .timeout(receiver.timeout())
        .header("Content-Type", "application/json")
        .header("User-Agent", "trainwatch-alerts")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    receiver.headers().forEach(req::header);
    if (receiver.bearerToken() != null) {
      req.header("Authorization", "Bearer " + receiver.bearerToken());
    }
    if (receiver.hmacSecret() != null) {
      req.header(SIGNATURE_HEADER, "sha256=" + hmacSha256Hex(receiver.hmacSecret(), body));
    }
    try {
      HttpResponse<String> resp = client.send(req.build(), HttpResponse.BodyHandlers.ofString());
      String snippet = resp.body() == null ? "" : resp.body().strip();
      return DeliveryResult.ofStatus(resp.statusCode(),
          snippet.length() > 200 ? snippet.substring(0, 200) : snippet);
    } catch (HttpTimeoutException e) {
      return new DeliveryResult.Retryable("timeout after " + receiver.timeout().toMillis() + " ms");
    } catch (IOException e) {
      return new DeliveryResult.Retryable("I/O error: " + e);
    }
  }

  /** Hex HMAC-SHA256 of {@code body}; receivers recompute it to verify the sender. */
  public static String hmacSha256Hex(String secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(body));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is required by every JVM", e);
    }
  }
}
