package dev.trainwatch.jobs.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where {@code trainwatch up} resumes the detection job on a data directory: the newest completed
 * savepoint ({@code savepoints/}, taken on SIGINT/SIGTERM) or retained checkpoint ({@code
 * checkpoints/<job>/chk-N}, left by a crash), whichever is newer. Completed means its {@code
 * _metadata} file exists: Flink writes it last.
 */
final class ResumePoint {

  private ResumePoint() {}

  static Optional<Path> newest(Path dataDir) throws IOException {
    Optional<Path> best = Optional.empty();
    FileTime bestTime = null;
    for (Path root : new Path[] {dataDir.resolve("savepoints"), dataDir.resolve("checkpoints")}) {
      if (!Files.isDirectory(root)) {
        continue;
      }
      try (Stream<Path> s = Files.walk(root, 3)) {
        for (Path meta : s.filter(p -> p.getFileName().toString().equals("_metadata")).toList()) {
          FileTime t = Files.getLastModifiedTime(meta);
          if (bestTime == null || t.compareTo(bestTime) > 0) {
            bestTime = t;
            best = Optional.of(meta.getParent());
          }
        }
      }
    }
    return best;
  }

  /**
   * Deletes savepoints older than {@code keep}, so the directory does not grow with every restart.
   */
  static void pruneSavepoints(Path dataDir, Path keep) throws IOException {
    Path root = dataDir.resolve("savepoints");
    if (!Files.isDirectory(root)) {
      return;
    }
    try (Stream<Path> s = Files.list(root)) {
      for (Path sp : s.filter(p -> !p.equals(keep)).toList()) {
        try (Stream<Path> w = Files.walk(sp)) {
          w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
  }
}
