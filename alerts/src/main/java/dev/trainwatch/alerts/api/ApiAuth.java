package dev.trainwatch.alerts.api;

import dev.trainwatch.alerts.config.AlertsConfig.Auth;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * Who may call the API: writes (creating, updating, expiring silences) always need the configured
 * basic-auth credentials or bearer token, and with none configured every write is refused, so an
 * open port can never mute an alert; reads need them only with {@code protect_reads}. Comparisons
 * are constant-time.
 */
final class ApiAuth {

  /** The decision, with the reason a client gets in its 401. */
  enum Verdict {
    ALLOWED(""),
    NO_CREDENTIALS_CONFIGURED(
        "writes are disabled: no credentials configured (set http.auth."
            + "username/password or http.auth.bearer_token)"),
    MISSING("credentials required: HTTP basic auth or Authorization: Bearer"),
    WRONG("invalid credentials");

    private final String message;

    Verdict(String message) {
      this.message = message;
    }

    String message() {
      return message;
    }
  }

  private final Auth auth;

  ApiAuth(Auth auth) {
    this.auth = auth;
  }

  Verdict check(String authorization, boolean write) {
    if (!write && !auth.protectReads()) {
      return Verdict.ALLOWED;
    }
    if (!auth.configured()) {
      return Verdict.NO_CREDENTIALS_CONFIGURED;
    }
    if (authorization == null || authorization.isBlank()) {
      return Verdict.MISSING;
    }
    String a = authorization.strip();
    if (a.regionMatches(true, 0, "Bearer ", 0, 7) && auth.bearerToken() != null) {
      return same(a.substring(7).strip(), auth.bearerToken()) ? Verdict.ALLOWED : Verdict.WRONG;
    }
    if (a.regionMatches(true, 0, "Basic ", 0, 6) && auth.username() != null) {
      String decoded;
      try {
        decoded =
            new String(Base64.getDecoder().decode(a.substring(6).strip()), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return Verdict.WRONG;
      }
      int colon = decoded.indexOf(':');
      boolean ok =
          colon > 0
              && same(decoded.substring(0, colon), auth.username())
                  & same(decoded.substring(colon + 1), auth.password());
      return ok ? Verdict.ALLOWED : Verdict.WRONG;
    }
    return Verdict.WRONG;
  }

  private static boolean same(String given, String expected) {
    return MessageDigest.isEqual(
        given.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
  }
}
