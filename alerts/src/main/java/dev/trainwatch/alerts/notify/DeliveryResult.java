package dev.trainwatch.alerts.notify;

/**
 * The outcome of one send attempt, classified once, where the response is seen: 2xx is {@link
 * Delivered}; 5xx, 429, timeouts and connection errors are {@link Retryable}; any other status is
 * {@link Permanent} and goes to the dead-letter topic with its reason.
 */
public sealed interface DeliveryResult {

  String describe();

  record Delivered(int status) implements DeliveryResult {
    public String describe() {
      return "delivered (" + status + ")";
    }
  }

  record Retryable(String reason) implements DeliveryResult {
    public String describe() {
      return "retryable: " + reason;
    }
  }

  record Permanent(String reason) implements DeliveryResult {
    public String describe() {
      return "permanent: " + reason;
    }
  }

  /** The classification rule for an HTTP status code. */
  static DeliveryResult ofStatus(int status, String bodySnippet) {
    if (status >= 200 && status < 300) {
      return new Delivered(status);
    }
    String reason = "HTTP " + status + (bodySnippet.isBlank() ? "" : ": " + bodySnippet);
    if (status == 429 || status >= 500) {
      return new Retryable(reason);
    }
    return new Permanent(reason);
  }
}
