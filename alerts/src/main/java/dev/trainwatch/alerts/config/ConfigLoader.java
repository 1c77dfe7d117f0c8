package dev.trainwatch.alerts.config;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.trainwatch.alerts.model.Matcher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Reads and validates the one YAML file of the alerts service: jackson-dataformat-yaml binds it to
 * the records of {@link AlertsConfig} and the sealed {@link Receiver} (by {@code type}), with
 * unknown keys rejected (a typo must not silently mean "default"). Defaults and checks live in the
 * records' compact constructors; every error is a {@link ConfigException} whose message starts with
 * the key path ({@code receivers[2].url: an http(s) URL is required for type webhook}).
 *
 * <p>Before binding, the environment (passed as a map so tests inject their own) overrides the
 * file: {@code TRAINWATCH_ALERTS_BOOTSTRAP_SERVERS}, {@code TRAINWATCH_ALERTS_STATE_DIR}, {@code
 * TRAINWATCH_ALERTS_HTTP_PORT}; and secrets ({@code password}, {@code bearer_token}, {@code
 * hmac_secret}) are read from their {@code *_env} (a variable) or {@code *_file} (a file) keys.
 *
 * <pre>{@code AlertsConfig c = ConfigLoader.load(Path.of("alerts.yaml"), System.getenv());}</pre>
 */
public final class ConfigLoader {

  private static final List<String> SECRETS = List.of("password", "bearer_token", "hmac_secret");

  private static final ObjectMapper YAML =
      YAMLMapper.builder()
          .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
          .addModule(
              new SimpleModule("alerts-config")
                  .addDeserializer(Duration.class, scalar(Durations::parse))
                  .addDeserializer(Matcher.class, scalar(Matcher::parse))
                  .addDeserializer(Path.class, scalar(Path::of))
                  .addDeserializer(Instant.class, scalar(ConfigLoader::instant)))
          .build();

  private ConfigLoader() {}

  public static AlertsConfig load(Path file, Map<String, String> env) {
    try {
      return parse(Files.readString(file), env);
    } catch (IOException e) {
      throw new ConfigException("--config", "cannot read " + file + ": " + e.getMessage());
    }
  }

  public static AlertsConfig parse(String yaml, Map<String, String> env) {
    JsonNode tree;
    try {
      tree = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new ConfigException("<yaml>", "not valid YAML: " + e.getOriginalMessage());
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      tree = YAML.createObjectNode();
    }
    if (!tree.isObject()) {
      throw new ConfigException("<root>", "must be a mapping");
    }
    ObjectNode root = (ObjectNode) tree;
    overrideFromEnv(root, env);
    resolveSecrets(root, env);
    try {
      return YAML.treeToValue(root, AlertsFile.class).toConfig();
    } catch (JsonMappingException e) {
      throw translate(e);
    } catch (JsonProcessingException e) {
      throw new ConfigException("<yaml>", e.getOriginalMessage());
    }
  }

  /**
   * The configuration {@code trainwatch demo} uses in-process: every notification printed to {@code
   * stdout} and appended as webhook v4 JSON to {@code notificationsFile}; short timings (group_wait
   * 1s, group_interval 10s) so the demo shows deliveries quickly; API on an ephemeral port.
   */
  public static AlertsConfig demo(String bootstrapServers, Path stateDir, Path notificationsFile) {
    return parse(
        """
        kafka: {bootstrap_servers: '%s'}
        http: {port: 0}
        state: {dir: '%s'}
        route:
          receiver: console
          group_wait: 1s
          group_interval: 10s
          repeat_interval: 1h
          routes:
            - matchers: ['run=~".*"']
              receiver: console
              continue: true
            - matchers: ['run=~".*"']
              receiver: file
        receivers:
          - {name: console, type: stdout}
          - {name: file, type: file, path: '%s'}
        """
            .formatted(bootstrapServers, stateDir, notificationsFile),
        Map.of());
  }

  /** Strimzi's rule: the environment wins over the file. */
  private static void overrideFromEnv(ObjectNode root, Map<String, String> env) {
    String bootstrap = env.get("TRAINWATCH_ALERTS_BOOTSTRAP_SERVERS");
    if (bootstrap != null) {
      section(root, "kafka").put("bootstrap_servers", bootstrap);
    }
    String stateDir = env.get("TRAINWATCH_ALERTS_STATE_DIR");
    if (stateDir != null) {
      section(root, "state").put("dir", stateDir);
    }
    String port = env.get("TRAINWATCH_ALERTS_HTTP_PORT");
    if (port != null) {
      try {
        section(root, "http").put("port", Integer.parseInt(port.strip()));
      } catch (NumberFormatException e) {
        throw new ConfigException("TRAINWATCH_ALERTS_HTTP_PORT", "must be an integer");
      }
    }
  }

  private static ObjectNode section(ObjectNode root, String key) {
    JsonNode n = root.get(key);
    if (n != null && !n.isNull() && !n.isObject()) {
      throw new ConfigException(key, "must be a mapping");
    }
    return n instanceof ObjectNode o ? o : root.putObject(key);
  }

  /** {@code key}, {@code key_env} or {@code key_file} (at most one) becomes {@code key}. */
  private static void resolveSecrets(ObjectNode root, Map<String, String> env) {
    if (root.path("http").path("auth") instanceof ObjectNode auth) {
      resolveSecrets(auth, "http.auth", env);
    }
    JsonNode receivers = root.path("receivers");
    for (int i = 0; i < receivers.size(); i++) {
      if (receivers.get(i) instanceof ObjectNode r) {
        resolveSecrets(r, "receivers[" + i + "]", env);
      }
    }
  }

  private static void resolveSecrets(ObjectNode n, String path, Map<String, String> env) {
    for (String key : SECRETS) {
      List<String> given =
          List.of(key, key + "_env", key + "_file").stream().filter(n::hasNonNull).toList();
      if (given.size() > 1) {
        throw new ConfigException(
            path + "." + given.get(1),
            "set only one of " + key + ", " + key + "_env, " + key + "_file");
      }
      if (given.isEmpty() || given.get(0).equals(key)) {
        continue;
      }
      String from = given.get(0);
      String ref = n.remove(from).asText();
      n.put(key, from.endsWith("_env") ? fromEnv(env, ref, path + "." + from) : read(ref, path));
    }
  }

  private static String fromEnv(Map<String, String> env, String var, String key) {
    String v = env.get(var);
    if (v == null || v.isEmpty()) {
      throw new ConfigException(key, "environment variable " + var + " is not set");
    }
    return v;
  }

  private static String read(String file, String key) {
    try {
      String v = Files.readString(Path.of(file)).strip();
      if (v.isEmpty()) {
        throw new ConfigException(key, file + " is empty");
      }
      return v;
    } catch (IOException e) {
      throw new ConfigException(key, "cannot read " + file + ": " + e);
    }
  }

  /** Jackson's error, said with the key path and what would be valid. */
  static ConfigException translate(JsonMappingException e) {
    String path = path(e.getPath());
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConfigException c) {
        return new ConfigException(join(path, c.key()), c.problem());
      }
    }
    if (e instanceof UnrecognizedPropertyException u) {
      List<Object> known = new ArrayList<>(u.getKnownPropertyIds());
      if (Receiver.class.isAssignableFrom(u.getReferringClass())) {
        known.add("type"); // read by the type resolver, so not among the record's properties
      }
      return new ConfigException(path, "unknown key; expected one of " + sorted(known));
    }
    if (e instanceof InvalidTypeIdException t) {
      String types =
          sorted(
              Arrays.stream(Receiver.class.getAnnotation(JsonSubTypes.class).value())
                  .map(s -> s.name())
                  .toList());
      return new ConfigException(
          join(path, "type"),
          t.getTypeId() == null
              ? "is required; one of " + types
              : "unknown type '" + t.getTypeId() + "'; expected one of " + types);
    }
    if (e instanceof InvalidFormatException f && f.getTargetType().isEnum()) {
      String values =
          Arrays.stream(f.getTargetType().getEnumConstants())
              .map(c -> ((Enum<?>) c).name().toLowerCase(Locale.ROOT))
              .collect(Collectors.joining(", ", "[", "]"));
      return new ConfigException(path, "must be one of " + values + ", got '" + f.getValue() + "'");
    }
    if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
      String got = e instanceof InvalidFormatException f ? ", got '" + f.getValue() + "'" : "";
      return new ConfigException(path, "must be " + describe(m.getTargetType()) + got);
    }
    return new ConfigException(path.isEmpty() ? "<root>" : path, e.getOriginalMessage());
  }

  private static String describe(Class<?> type) {
    if (type == Integer.class || type == int.class || type == Long.class) {
      return "an integer";
    }
    if (type == Double.class || type == double.class) {
      return "a number";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (type == String.class) {
      return "a string";
    }
    if (Collection.class.isAssignableFrom(type)) {
      return "a list";
    }
    return "a mapping";
  }

  /** {@code receivers[2].url} from Jackson's reference chain. */
  private static String path(List<JsonMappingException.Reference> refs) {
    StringBuilder b = new StringBuilder();
    for (JsonMappingException.Reference r : refs) {
      if (r.getFieldName() != null) {
        b.append(b.isEmpty() ? "" : ".").append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      }
    }
    return b.toString();
  }

  private static String join(String path, String key) {
    if (path.isEmpty() || key.isEmpty()) {
      return path.isEmpty() ? key : path;
    }
    return key.startsWith("[") ? path + key : path + "." + key;
  }

  private static String sorted(Collection<?> names) {
    return new TreeSet<>(names.stream().map(String::valueOf).toList()).toString();
  }

  private static Instant instant(String text) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("must be an RFC 3339 time like 2026-01-01T00:00:00Z");
    }
  }

  /** A value written as one YAML scalar; a parse error becomes this key's error. */
  private static <T> JsonDeserializer<T> scalar(Function<String, T> parse) {
    return new JsonDeserializer<>() {
      @Override
      public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        if (!p.currentToken().isScalarValue()) {
          throw new ConfigException("", "must be a single value, not a list or mapping");
        }
        try {
          return parse.apply(p.getText());
        } catch (IllegalArgumentException e) {
          throw new ConfigException("", e.getMessage());
        }
      }
    };
  }
}
