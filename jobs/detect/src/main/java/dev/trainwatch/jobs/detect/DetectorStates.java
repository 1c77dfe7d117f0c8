package dev.trainwatch.jobs.detect;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.List;

/**
 * Each detector's state in a frame of its own: name (UTF), format version (unsigned byte), length
 * (int), then the bytes of {@link Detector#writeState}. On restore the frame goes to the detector
 * of that name (a detector no longer registered is skipped), which must know the version and
 * consume exactly the frame's bytes: a changed layout without a new version fails here, naming the
 * detector, instead of restoring garbage into the next detector's fields.
 */
public final class DetectorStates {

  private DetectorStates() {}

  /** Writes {@code d}'s state as one frame; {@code buf} is scratch reused across detectors. */
  public static void write(Detector d, DataOutput out, ByteArrayOutputStream buf)
      throws IOException {
    buf.reset();
    d.writeState(new DataOutputStream(buf));
    out.writeUTF(d.name());
    out.writeByte(d.stateVersion());
    out.writeInt(buf.size());
    out.write(buf.toByteArray());
  }

  /** Reads one frame and restores it into the detector of its name, if one is registered. */
  public static void read(List<Detector> detectors, DataInput in) throws IOException {
    String name = in.readUTF();
    int version = in.readUnsignedByte();
    restore(detectors, name, version, bytes(in));
  }

  /**
   * Reads one frame of the run-state formats before 3 (name, length, bytes; no version): their
   * layouts are each detector's format version 1.
   */
  static void readUnversioned(List<Detector> detectors, DataInput in) throws IOException {
    String name = in.readUTF();
    restore(detectors, name, 1, bytes(in));
  }

  private static byte[] bytes(DataInput in) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      throw new IOException("detector state frame with negative length " + n);
    }
    byte[] bytes = new byte[n];
    in.readFully(bytes);
    return bytes;
  }

  private static void restore(List<Detector> detectors, String name, int version, byte[] bytes)
      throws IOException {
    for (Detector d : detectors) {
      if (d.name().equals(name)) {
        restore(d, version, bytes);
      }
    }
  }

  /**
   * Restores {@code bytes} of format {@code version} into {@code d}; fails, naming the detector, on
   * an unknown version, a frame shorter than the state, or bytes left over.
   */
  public static void restore(Detector d, int version, byte[] bytes) throws IOException {
    if (version < d.oldestStateVersion() || version > d.stateVersion()) {
      throw new IOException(
          "detector "
              + d.name()
              + ": state format version "
              + version
              + " is unknown (this build reads "
              + (d.oldestStateVersion() == d.stateVersion()
                  ? "version " + d.stateVersion()
                  : "versions " + d.oldestStateVersion() + " to " + d.stateVersion())
              + ")");
    }
    ByteArrayInputStream in = new ByteArrayInputStream(bytes);
    try {
      d.readState(new DataInputStream(in), version);
    } catch (EOFException e) {
      throw new IOException(
          "detector "
              + d.name()
              + ": state format version "
              + version
              + " ends early ("
              + bytes.length
              + " bytes)",
          e);
    }
    if (in.available() > 0) {
      throw new IOException(
          "detector "
              + d.name()
              + ": "
              + in.available()
              + " trailing bytes after its state (format version "
              + version
              + ", frame of "
              + bytes.length
              + " bytes)");
    }
  }
}
