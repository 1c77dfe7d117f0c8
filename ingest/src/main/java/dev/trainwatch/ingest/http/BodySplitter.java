package dev.trainwatch.ingest.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits a request body into records: one JSON object, a JSON array of objects, or JSON Lines. Each
 * piece keeps its 1-based number ("line") so errors can name it.
 */
final class BodySplitter {

  /** One piece of a body: its number and bytes. */
  record Piece(int line, byte[] bytes) {}

  /** The pieces, or an error that concerns the whole body. */
  record Split(List<Piece> pieces, String error) {}

  private static final JsonFactory JSON = new JsonFactory();

  private BodySplitter() {}

  static Split split(byte[] body) {
    int start = 0;
    while (start < body.length && Character.isWhitespace(body[start])) {
      start++;
    }
    if (start == body.length) {
      return new Split(List.of(), "empty body: send one record, a JSON array or JSON Lines");
    }
    if (body[start] == '[') {
      return array(body);
    }
    if (body[start] == '{' && isSingleValue(body)) {
      return new Split(List.of(new Piece(1, body)), null); // e.g. one pretty-printed record
    }
    return lines(body);
  }

  private static boolean isSingleValue(byte[] body) {
    try (JsonParser p = JSON.createParser(body)) {
      p.nextToken();
      p.skipChildren();
      return p.nextToken() == null;
    } catch (IOException e) {
      return false;
    }
  }

  private static Split array(byte[] body) {
    List<Piece> out = new ArrayList<>();
    try (JsonParser p = JSON.createParser(body)) {
      p.nextToken();
      JsonToken t;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        if (t == null) {
          return new Split(out, "malformed JSON array: unexpected end of input");
        }
        int from = (int) p.currentTokenLocation().getByteOffset();
        p.skipChildren();
        int to = (int) p.currentLocation().getByteOffset();
        out.add(new Piece(out.size() + 1, Arrays.copyOfRange(body, from, to)));
      }
      if (p.nextToken() != null) {
        return new Split(List.of(), "trailing content after the JSON array");
      }
    } catch (IOException e) {
      return new Split(List.of(), "malformed JSON array: " + e.getMessage().split("\n")[0]);
    }
    return new Split(out, null);
  }

  private static Split lines(byte[] body) {
    List<Piece> out = new ArrayList<>();
    int line = 1;
    int from = 0;
    for (int i = 0; i <= body.length; i++) {
      if (i == body.length || body[i] == '\n') {
        int to = i > from && body[i - 1] == '\r' ? i - 1 : i;
        if (!isBlank(body, from, to)) {
          out.add(new Piece(line, Arrays.copyOfRange(body, from, to)));
        }
        line++;
        from = i + 1;
      }
    }
    return new Split(out, null);
  }

  private static boolean isBlank(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (!Character.isWhitespace(b[i])) {
        return false;
      }
    }
    return true;
  }
}
