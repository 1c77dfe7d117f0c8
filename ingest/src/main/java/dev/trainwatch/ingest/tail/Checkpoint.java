package dev.trainwatch.ingest.tail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Where the tail stopped: the file's identity (inode) and the byte offset just after the last
 * complete line that is durable. Written to a temp file and renamed, so a crash leaves either the
 * old or the new checkpoint.
 */
public record Checkpoint(String fileId, long offset) {

  public static Checkpoint read(Path p) {
    try {
      if (!Files.exists(p)) {
        return null;
      }
      String[] parts = Files.readString(p).trim().split(" ");
      return parts.length == 2 ? new Checkpoint(parts[0], Long.parseLong(parts[1])) : null;
    } catch (IOException | NumberFormatException e) {
      return null; // unreadable checkpoint: start over from the beginning of the file
    }
  }

  public void write(Path p) {
    Path tmp = p.resolveSibling(p.getFileName() + ".tmp");
    try {
      Files.writeString(tmp, fileId + " " + offset + "\n");
      try {
        Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write tail checkpoint " + p, e);
    }
  }

  /** The identity of a file that survives renames: the inode on Unix, else the file key. */
  public static String fileId(Path p) throws IOException {
    try {
      return String.valueOf(Files.getAttribute(p, "unix:ino"));
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      Object key = Files.readAttributes(p, BasicFileAttributes.class).fileKey();
      return key == null ? "unknown" : key.toString().replace(' ', '_');
    }
  }
}
