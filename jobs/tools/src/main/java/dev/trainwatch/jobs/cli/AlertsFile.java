package dev.trainwatch.jobs.cli;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes alert events as JSON Lines, the format {@code score.py} reads. */
final class AlertsFile {

  private AlertsFile() {}

  static void write(Path path, List<AlertEvent> alerts) throws IOException {
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (OutputStream out = Files.newOutputStream(path)) {
      for (AlertEvent a : alerts) {
        out.write(AlertJson.toBytes(a));
        out.write('\n');
      }
    }
  }
}
