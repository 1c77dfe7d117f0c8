package dev.trainwatch.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Prints every notification the alerts service appends to {@code notifications.jsonl} (one webhook
 * v4 payload per line): one line per alert with its severity, run, detector and summary, and its
 * remedy beneath. Reading the file the file receiver writes means the console shows exactly what
 * was delivered, once. Starts at the file's end, so a restart does not reprint earlier
 * notifications.
 */
final class NotificationTail implements Runnable {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final PrintStream out;
  private volatile boolean stopped;
  private long position;

  NotificationTail(Path file, PrintStream out) throws IOException {
    this.file = file;
    this.out = out;
    this.position = Files.exists(file) ? Files.size(file) : 0;
  }

  void stop() {
    stopped = true;
  }

  @Override
  public void run() {
    StringBuilder partial = new StringBuilder();
    while (!stopped) {
      try {
        poll(partial);
        Thread.sleep(300);
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        out.println("trainwatch up: cannot read " + file + ": " + e.getMessage());
      }
    }
  }

  /** Prints the complete lines appended since the last call. */
  void poll(StringBuilder partial) throws IOException {
    if (!Files.exists(file) || Files.size(file) <= position) {
      return;
    }
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      f.seek(position);
      byte[] b = new byte[(int) Math.min(f.length() - position, 1 << 20)];
      f.readFully(b);
      position += b.length;
      partial.append(new String(b, StandardCharsets.UTF_8));
    }
    int nl;
    while ((nl = partial.indexOf("\n")) >= 0) {
      String line = partial.substring(0, nl);
      partial.delete(0, nl + 1);
      if (!line.isBlank()) {
        print(JSON.readTree(line));
      }
    }
  }

  private void print(JsonNode n) {
    for (JsonNode a : n.path("alerts")) {
      JsonNode l = a.path("labels");
      JsonNode an = a.path("annotations");
      out.printf(
          "NOTIFY %-8s %-8s run=%s %s/%s%s step %s: %s%n",
          a.path("status").asText(),
          l.path("severity").asText(),
          l.path("run").asText(),
          l.path("family").asText(),
          l.path("detector").asText(),
          l.hasNonNull("affected_task") ? " [task " + l.path("affected_task").asText() + "]" : "",
          an.path("step").asText("?"),
          an.path("summary").asText());
      String remedy = an.path("remedy").asText("");
      if (!remedy.isEmpty() && !"resolved".equals(a.path("status").asText())) {
        out.println("       remedy: " + remedy);
      }
    }
    out.flush();
  }
}
