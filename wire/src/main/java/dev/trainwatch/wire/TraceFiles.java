package dev.trainwatch.wire;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Recorded training runs on disk: {@code .jsonl} and {@code .jsonl.gz} files, given as files or
 * directories (searched one level deep, in name order so replays are reproducible).
 */
public final class TraceFiles {

  private TraceFiles() {}

  /** Expands the given files and directories into the trace files they hold, sorted. */
  public static List<Path> resolve(List<Path> inputs) {
    List<Path> out = new ArrayList<>();
    for (Path p : inputs) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.list(p)) {
          s.filter(TraceFiles::isTrace).sorted().forEach(out::add);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot list traces in " + p, e);
        }
      } else if (Files.isRegularFile(p)) {
        if (!isTrace(p)) {
          throw new IllegalArgumentException("not a trace file (.jsonl or .jsonl.gz): " + p);
        }
        out.add(p);
      } else {
        throw new IllegalArgumentException("no such trace file or directory: " + p);
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("no .jsonl or .jsonl.gz traces found in " + inputs);
    }
    return out;
  }

  static boolean isTrace(Path p) {
    String n = p.getFileName().toString();
    return n.endsWith(".jsonl") || n.endsWith(".jsonl.gz");
  }

  /** Calls {@code sink} with every non-blank line of the file, decompressing {@code .gz}. */
  public static void forEachLine(Path file, Consumer<String> sink) {
    try (InputStream raw = Files.newInputStream(file);
        InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
        BufferedReader r =
            new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
      String line;
      while ((line = r.readLine()) != null) {
        if (!line.isBlank()) {
          sink.accept(line);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read trace " + file, e);
    }
  }
}
