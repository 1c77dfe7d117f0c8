package dev.trainwatch.ingest.spool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.ingest.pipeline.Outgoing;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {

  @TempDir Path dir;

  private static List<Outgoing> records(int from, int to) {
    List<Outgoing> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add(
          new Outgoing(
              "t",
              i % 3 == 0 ? null : "run-" + (i % 3),
              ("{\"run\":\"r\",\"step\":" + i + "}").getBytes(StandardCharsets.UTF_8),
              null));
    }
    return out;
  }

  private static List<String> values(List<Spool.Entry> entries) {
    return entries.stream()
        .map(e -> new String(e.record().value(), StandardCharsets.UTF_8))
        .toList();
  }

  @Test
  void drainsInAppendOrderAcrossSegments() throws Exception {
    try (Spool s = new Spool(dir, 200, 1 << 20)) {
      s.append(records(0, 50));
      assertThat(s.size()).isEqualTo(50);
      List<Spool.Entry> first = s.peek(20);
      assertThat(values(first).get(0)).contains("\"step\":0");
      assertThat(first.get(1).record().key()).isEqualTo("run-1");
      assertThat(first.get(0).record().key()).isNull();
      s.commit(first);
      List<Spool.Entry> rest = s.peek(1000);
      assertThat(rest).hasSize(30);
      assertThat(values(rest).get(0)).contains("\"step\":20");
      s.commit(rest);
      assertThat(s.isEmpty()).isTrue();
      try (var files = Files.list(dir)) {
        assertThat(files.filter(p -> p.toString().endsWith(".spool")).count())
            .isLessThanOrEqualTo(1);
      }
    }
  }

  @Test
  void reopenedSpoolResumesAfterTheLastReleasedEntry() throws Exception {
    try (Spool s = new Spool(dir, 300, 1 << 20)) {
      s.append(records(0, 10));
      s.commit(s.peek(4));
    }
    try (Spool s = new Spool(dir, 300, 1 << 20)) {
      assertThat(s.size()).isEqualTo(6);
      s.append(records(10, 12));
      assertThat(values(s.peek(100))).first().asString().contains("\"step\":4");
      assertThat(values(s.peek(100))).last().asString().contains("\"step\":11");
    }
  }

  @Test
  void aTornEntryFromACrashIsCutOff() throws Exception {
    try (Spool s = new Spool(dir, 1 << 20, 1 << 20)) {
      s.append(records(0, 3));
    }
    Path seg;
    try (var files = Files.list(dir)) {
      seg = files.filter(p -> p.toString().endsWith(".spool")).findFirst().orElseThrow();
    }
    try (FileChannel ch =
        FileChannel.open(seg, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ch.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 50, 1, 2})); // half a header
    }
    try (Spool s = new Spool(dir, 1 << 20, 1 << 20)) {
      assertThat(s.size()).isEqualTo(3);
      s.append(records(3, 4));
      assertThat(values(s.peek(10))).hasSize(4).last().asString().contains("\"step\":3");
    }
  }

  @Test
  void refusesAppendsBeyondItsLimit() throws Exception {
    try (Spool s = new Spool(dir, 1 << 20, 100)) {
      Spool.Appended a = s.append(records(0, 100));
      assertThat(a.error()).startsWith("spool full: ").contains("spool.max.bytes = 100");
      assertThat(s.size()).isEqualTo(a.count()).isLessThan(100);
    }
  }
}
