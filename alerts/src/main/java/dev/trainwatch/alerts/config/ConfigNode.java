package dev.trainwatch.alerts.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A YAML node that knows its key path, so every typed read fails with a {@link ConfigException}
 * naming the key ({@code receivers[1].timeout}) and what would be valid.
 */
final class ConfigNode {

  private final String path;
  private final JsonNode node;

  ConfigNode(String path, JsonNode node) {
    this.path = path;
    this.node = node == null || node.isNull() ? MissingNode.getInstance() : node;
  }

  String path() {
    return path;
  }

  boolean present() {
    return !node.isMissingNode();
  }

  ConfigNode get(String key) {
    if (present() && !node.isObject()) {
      throw new ConfigException(path, "must be a mapping");
    }
    return new ConfigNode(path.isEmpty() ? key : path + "." + key, node.get(key));
  }

  /** Rejects keys this section does not define: a typo must not silently mean "default". */
  ConfigNode onlyKeys(Set<String> allowed) {
    if (!present()) {
      return this;
    }
    if (!node.isObject()) {
      throw new ConfigException(path.isEmpty() ? "<root>" : path, "must be a mapping");
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!allowed.contains(k)) {
        throw new ConfigException(
            path.isEmpty() ? k : path + "." + k,
            "unknown key; expected one of " + new java.util.TreeSet<>(allowed));
      }
    }
    return this;
  }

  String string(String def) {
    if (!present()) {
      return def;
    }
    if (!node.isValueNode()) {
      throw new ConfigException(path, "must be a string");
    }
    return node.asText();
  }

  String requiredString() {
    String s = string(null);
    if (s == null || s.isBlank()) {
      throw new ConfigException(path, "is required");
    }
    return s;
  }

  int integer(int def, int min, int max) {
    if (!present()) {
      return def;
    }
    if (!node.canConvertToInt() || !node.isIntegralNumber()) {
      throw new ConfigException(path, "must be an integer, got '" + node.asText() + "'");
    }
    int v = node.asInt();
    if (v < min || v > max) {
      throw new ConfigException(path, "must be between " + min + " and " + max + ", got " + v);
    }
    return v;
  }

  double decimal(double def, double min, double max) {
    if (!present()) {
      return def;
    }
    if (!node.isNumber()) {
      throw new ConfigException(path, "must be a number, got '" + node.asText() + "'");
    }
    double v = node.asDouble();
    if (v < min || v > max) {
      throw new ConfigException(path, "must be between " + min + " and " + max + ", got " + v);
    }
    return v;
  }

  boolean bool(boolean def) {
    if (!present()) {
      return def;
    }
    if (!node.isBoolean()) {
      throw new ConfigException(path, "must be true or false, got '" + node.asText() + "'");
    }
    return node.asBoolean();
  }

  Duration duration(Duration def) {
    if (!present()) {
      return def;
    }
    try {
      return Durations.parse(node.asText());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path, e.getMessage());
    }
  }

  Instant instant() {
    try {
      return Instant.parse(requiredString());
    } catch (DateTimeParseException e) {
      throw new ConfigException(path, "must be an RFC 3339 time like 2026-01-01T00:00:00Z");
    }
  }

  List<ConfigNode> list() {
    List<ConfigNode> out = new ArrayList<>();
    if (!present()) {
      return out;
    }
    if (!node.isArray()) {
      throw new ConfigException(path, "must be a list");
    }
    for (int i = 0; i < node.size(); i++) {
      out.add(new ConfigNode(path + "[" + i + "]", node.get(i)));
    }
    return out;
  }

  List<String> strings(List<String> def) {
    if (!present()) {
      return def;
    }
    List<String> out = new ArrayList<>();
    for (ConfigNode n : list()) {
      out.add(n.requiredString());
    }
    return out;
  }

  Map<String, String> stringMap() {
    Map<String, String> out = new LinkedHashMap<>();
    if (!present()) {
      return out;
    }
    if (!node.isObject()) {
      throw new ConfigException(path, "must be a mapping");
    }
    node.fields().forEachRemaining(e -> out.put(e.getKey(), get(e.getKey()).string("")));
    return out;
  }

  <T> List<T> parsedStrings(Function<String, T> parser) {
    List<T> out = new ArrayList<>();
    for (ConfigNode n : list()) {
      try {
        out.add(parser.apply(n.requiredString()));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(n.path(), e.getMessage());
      }
    }
    return out;
  }
}
