package dev.trainwatch.grafana;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The provisioned artefacts of grafana/, read the way Grafana reads them, for the tests. */
final class Dashboards {

  /** One query of a dashboard: where it sits, and its raw InfluxQL. */
  record Query(String dashboard, String where, String panelTitle, String influxql) {}

  static final Path BASE = Path.of(System.getProperty("trainwatch.grafana.dir", "."));
  static final ObjectMapper JSON = new ObjectMapper();
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private Dashboards() {}

  static List<Path> files() {
    try (Stream<Path> s = Files.list(BASE.resolve("dashboards"))) {
      return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode read(Path p) {
    try {
      return JSON.readTree(p.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode yaml(String relative) {
    try {
      return YAML.readTree(BASE.resolve(relative).toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The uid every panel must reference: the one the datasource provisioning declares. */
  static String provisionedDatasourceUid() {
    return yaml("provisioning/datasources/influxdb.yaml")
        .path("datasources")
        .get(0)
        .path("uid")
        .asText();
  }

  /** Every template-variable, panel-target and annotation query of a dashboard. */
  static List<Query> queries(JsonNode dash) {
    String uid = dash.path("uid").asText();
    List<Query> out = new ArrayList<>();
    for (JsonNode v : dash.path("templating").path("list")) {
      out.add(
          new Query(uid, "variable " + v.path("name").asText(), null, v.path("query").asText()));
    }
    for (JsonNode a : dash.path("annotations").path("list")) {
      if (a.path("builtIn").asInt(0) == 1) {
        continue;
      }
      out.add(
          new Query(uid, "annotation " + a.path("name").asText(), null, a.path("query").asText()));
    }
    for (JsonNode p : panels(dash)) {
      for (JsonNode t : p.path("targets")) {
        out.add(
            new Query(
                uid,
                "panel '" + p.path("title").asText() + "' target " + t.path("refId").asText(),
                p.path("title").asText(),
                t.path("query").asText()));
      }
    }
    return out;
  }

  /** Panels, including those nested in rows. */
  static List<JsonNode> panels(JsonNode dash) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode p : dash.path("panels")) {
      out.add(p);
      p.path("panels").forEach(out::add);
    }
    return out;
  }
}
