package dev.trainwatch.grafana;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What Grafana provisioning needs of the artefacts, checked without a Grafana server. */
class DashboardStructureTest {

  private static List<JsonNode> dashboards() {
    return Dashboards.files().stream().map(Dashboards::read).toList();
  }

  @Test
  void runAndFleetDashboardsExist() {
    assertThat(Dashboards.files())
        .extracting(p -> p.getFileName().toString())
        .contains("run.json", "fleet.json");
  }

  @Test
  void dashboardUidsAreFixedAndUniqueAndIdsAreNull() {
    Set<String> uids = new HashSet<>();
    for (JsonNode d : dashboards()) {
      assertThat(d.has("id")).as("dashboard %s declares id", d.path("uid")).isTrue();
      assertThat(d.get("id").isNull()).as("id of %s must be null", d.path("uid")).isTrue();
      String uid = d.path("uid").asText();
      assertThat(uid).matches("[a-z0-9-]{1,40}");
      assertThat(uids.add(uid)).as("uid %s is unique", uid).isTrue();
    }
  }

  @Test
  void everyPanelTargetAnnotationAndVariableUsesTheProvisionedDatasourceUid() {
    String uid = Dashboards.provisionedDatasourceUid();
    assertThat(uid).isEqualTo("trainwatch-influxdb");
    List<String> refs = new ArrayList<>();
    for (JsonNode d : dashboards()) {
      for (JsonNode p : Dashboards.panels(d)) {
        if (p.path("type").asText().equals("row")) {
          continue;
        }
        refs.add(p.path("datasource").path("uid").asText("<missing>"));
        p.path("targets")
            .forEach(t -> refs.add(t.path("datasource").path("uid").asText("<missing>")));
      }
      d.path("templating")
          .path("list")
          .forEach(v -> refs.add(v.path("datasource").path("uid").asText("<missing>")));
      for (JsonNode a : d.path("annotations").path("list")) {
        if (a.path("builtIn").asInt(0) != 1) {
          refs.add(a.path("datasource").path("uid").asText("<missing>"));
        }
      }
    }
    assertThat(refs).isNotEmpty().allMatch(uid::equals);
  }

  @Test
  void panelIdsAreUniqueWithinEachDashboardAndEveryPanelHasATarget() {
    for (JsonNode d : dashboards()) {
      Set<Integer> ids = new HashSet<>();
      for (JsonNode p : Dashboards.panels(d)) {
        assertThat(ids.add(p.path("id").asInt()))
            .as("panel id %s in %s", p.path("id"), d.path("uid"))
            .isTrue();
        assertThat(p.path("targets").size()).as("targets of '%s'", p.path("title")).isPositive();
      }
    }
  }

  @Test
  void runDashboardIsParameterisedByRunAndEveryDataQueryFiltersTimeAndRun() {
    JsonNode run = Dashboards.read(Dashboards.BASE.resolve(Path.of("dashboards", "run.json")));
    assertThat(run.path("templating").path("list").get(0).path("name").asText()).isEqualTo("run");
    for (Dashboards.Query q : Dashboards.queries(run)) {
      if (q.where().startsWith("variable")) {
        continue;
      }
      assertThat(q.influxql()).as(q.where()).contains("$timeFilter").contains("/^$run$/");
    }
  }

  @Test
  void fleetQueriesAllFilterTime() {
    JsonNode fleet = Dashboards.read(Dashboards.BASE.resolve(Path.of("dashboards", "fleet.json")));
    assertThat(Dashboards.queries(fleet))
        .isNotEmpty()
        .allSatisfy(q -> assertThat(q.influxql()).as(q.where()).contains("$timeFilter"));
  }

  @Test
  void dashboardsProviderRefusesUiUpdates() {
    JsonNode providers =
        Dashboards.yaml("provisioning/dashboards/dashboards.yaml").path("providers");
    assertThat(providers.size()).isPositive();
    providers.forEach(
        p -> {
          assertThat(p.path("allowUiUpdates").isBoolean()).isTrue();
          assertThat(p.path("allowUiUpdates").asBoolean()).isFalse();
        });
  }

  @Test
  void datasourceSecretsComeFromTheEnvironmentAndOnlyInSecureJsonData() {
    JsonNode ds =
        Dashboards.yaml("provisioning/datasources/influxdb.yaml").path("datasources").get(0);
    assertThat(ds.path("type").asText()).isEqualTo("influxdb");
    assertThat(ds.path("secureJsonData").path("password").asText()).matches("\\$\\{[A-Z_]+}");
    assertThat(ds.has("password")).isFalse();
    assertThat(ds.path("jsonData").has("password")).isFalse();
    assertThat(ds.path("url").asText()).matches("\\$\\{[A-Z_]+}");
  }
}
