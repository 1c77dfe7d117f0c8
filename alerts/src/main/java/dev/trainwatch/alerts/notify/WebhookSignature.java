package dev.trainwatch.alerts.notify;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Webhook signatures a receiver can check for origin and freshness: the sender puts the Unix time
 * in {@value #TIMESTAMP_HEADER} and {@code v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>} in
 * {@value #SIGNATURE_HEADER}. Signing the timestamp with the body means a captured request cannot
 * be replayed once it is older than the receiver's window (5 minutes by default, as Stripe and
 * Slack do), and every retry is signed afresh.
 *
 * <pre>{@code
 * Verdict v = WebhookSignature.verify(secret, req.header(TIMESTAMP_HEADER),
 *     req.header(SIGNATURE_HEADER), body, Instant.now(), WebhookSignature.DEFAULT_WINDOW);
 * }</pre>
 */
public final class WebhookSignature {

  public static final String SIGNATURE_HEADER = "X-Trainwatch-Signature";
  public static final String TIMESTAMP_HEADER = "X-Trainwatch-Timestamp";
  public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(5);
  private static final String VERSION = "v1=";

  /** What a check found. */
  public enum Verdict {
    VALID,
    MISSING,
    MALFORMED,
    BAD_SIGNATURE,
    EXPIRED
  }

  private WebhookSignature() {}

  /** The {@value #SIGNATURE_HEADER} value for this timestamp (Unix seconds) and body. */
  public static String sign(String secret, long unixSeconds, byte[] body) {
    return VERSION + HexFormat.of().formatHex(mac(secret, unixSeconds, body));
  }

  /**
   * Checks signature first (constant-time), then that the timestamp is within {@code window} of
   * now.
   */
  public static Verdict verify(
      String secret,
      String timestamp,
      String signature,
      byte[] body,
      Instant now,
      Duration window) {
    if (timestamp == null || signature == null) {
      return Verdict.MISSING;
    }
    long ts;
    byte[] given;
    try {
      ts = Long.parseLong(timestamp.strip());
      if (!signature.startsWith(VERSION)) {
        return Verdict.MALFORMED;
      }
      given = HexFormat.of().parseHex(signature.substring(VERSION.length()).strip());
    } catch (IllegalArgumentException e) {
      return Verdict.MALFORMED;
    }
    if (!MessageDigest.isEqual(given, mac(secret, ts, body))) {
      return Verdict.BAD_SIGNATURE;
    }
    return Math.abs(now.getEpochSecond() - ts) > window.toSeconds()
        ? Verdict.EXPIRED
        : Verdict.VALID;
  }

  private static byte[] mac(String secret, long unixSeconds, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((unixSeconds + ".").getBytes(StandardCharsets.US_ASCII));
      return mac.doFinal(body);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is required by every JVM", e);
    }
  }
}
