package dev.trainwatch.jobs.replay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.trainwatch.wire.TraceFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * When each recorded line is sent in a paced replay, as an offset from the start: every trace is
 * one training job and all of them start together, as a fleet would. {@link Pace.ByTime} keeps each
 * run's own gaps between {@code time_ms} values (divided by {@code speed}; a record without {@code
 * time_ms} or earlier than the one before is sent right after it); {@link Pace.ByRate} sends a
 * fixed number of records per second in total, the runs taking turns. Pure: the producer sleeps
 * until each offset.
 */
public final class ReplaySchedule {

  /** How to pace; parsed from the CLI's {@code --pace time|<records/s>} and {@code --speed}. */
  public sealed interface Pace {
    /** Each run's time_ms gaps, {@code speed} times faster. */
    record ByTime(double speed) implements Pace {
      public ByTime {
        if (!(speed > 0) || Double.isInfinite(speed)) {
          throw new IllegalArgumentException("--speed must be a positive number, got " + speed);
        }
      }
    }

    /** {@code perSecond} records per second over all runs. */
    record ByRate(double perSecond) implements Pace {
      public ByRate {
        if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
          throw new IllegalArgumentException(
              "--pace rate must be a positive number of records/s, got " + perSecond);
        }
      }
    }

    /**
     * {@code time} (with {@code speed}) or a rate in records per second ({@code 500}, {@code
     * 500/s}).
     */
    public static Pace parse(String text, double speed) {
      String t = text.strip().toLowerCase(Locale.ROOT);
      if (t.equals("time") || t.equals("time_ms")) {
        return new ByTime(speed);
      }
      try {
        return new ByRate(
            Double.parseDouble(t.endsWith("/s") ? t.substring(0, t.length() - 2) : t));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "--pace must be 'time' or a rate in records/s (e.g. 500), got '" + text + "'");
      }
    }
  }

  /** One line to send {@code atNanos} after the start. */
  public record Entry(long atNanos, String line) {}

  private static final JsonFactory JSON = new JsonFactory();

  private ReplaySchedule() {}

  /** The lines of all traces in send order. */
  public static List<Entry> ofTraces(List<Path> traces, Pace pace) {
    List<List<String>> runs = new ArrayList<>();
    for (Path f : TraceFiles.resolve(traces)) {
      List<String> lines = new ArrayList<>();
      TraceFiles.forEachLine(f, lines::add);
      runs.add(lines);
    }
    return of(runs, pace);
  }

  /** The same for traces already in memory (one list of lines per run). */
  public static List<Entry> of(List<List<String>> runs, Pace pace) {
    List<Entry> out = new ArrayList<>();
    if (pace instanceof Pace.ByRate rate) {
      double nanosPerRecord = 1e9 / rate.perSecond();
      long slot = 0;
      int longest = runs.stream().mapToInt(List::size).max().orElse(0);
      for (int i = 0; i < longest; i++) { // the runs take turns: record i of every run, then i + 1
        for (List<String> run : runs) {
          if (i < run.size()) {
            out.add(new Entry(Math.round(slot++ * nanosPerRecord), run.get(i)));
          }
        }
      }
      return out;
    }
    double speed = ((Pace.ByTime) pace).speed();
    for (List<String> run : runs) {
      long first = -1;
      long at = 0;
      for (String line : run) {
        long t = timeMs(line);
        if (t >= 0 && first < 0) {
          first = t;
        }
        if (t >= 0) {
          at = Math.max(at, Math.round((t - first) * 1e6 / speed));
        }
        out.add(new Entry(at, line));
      }
    }
    // stable: lines of one run keep their order at equal times
    out.sort(Comparator.comparingLong(Entry::atNanos));
    return out;
  }

  /** The line's top-level {@code time_ms}, or -1 if it has none or cannot be read. */
  static long timeMs(String line) {
    try (JsonParser p = JSON.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return -1;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (name.equals("time_ms") && v.isNumeric()) {
          return p.getLongValue();
        }
        p.skipChildren();
      }
    } catch (IOException | RuntimeException e) {
      return -1; // a malformed line is sent as it is, right after the one before
    }
    return -1;
  }
}
