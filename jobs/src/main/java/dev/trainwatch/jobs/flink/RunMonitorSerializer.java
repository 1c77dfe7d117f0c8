package dev.trainwatch.jobs.flink;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.RunMonitor;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink serializer for a run's detector state: delegates to {@link RunMonitor#write} and
 * {@link RunMonitor#read}, the detectors' own explicit, versioned binary format. This keeps
 * Kryo out of the state path and the state per run small and measurable. Restored monitors
 * get the default config; the function applies the job's config when it loads them.
 */
public final class RunMonitorSerializer extends TypeSerializer<RunMonitor> {

  private static final long serialVersionUID = 1L;
  public static final RunMonitorSerializer INSTANCE = new RunMonitorSerializer();

  @Override
  public boolean isImmutableType() {
    return false;
  }

  @Override
  public TypeSerializer<RunMonitor> duplicate() {
    return this; // stateless
  }

  @Override
  public RunMonitor createInstance() {
    return null;
  }

  @Override
  public RunMonitor copy(RunMonitor from) {
    // Deep copy through the binary form: used by the heap backend's copy-on-write snapshots.
    try {
      var buf = new org.apache.flink.core.memory.DataOutputSerializer(512);
      from.write(buf);
      return RunMonitor.read(DetectorConfig.DEFAULTS,
          new org.apache.flink.core.memory.DataInputDeserializer(buf.getSharedBuffer(), 0, buf.length()));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public RunMonitor copy(RunMonitor from, RunMonitor reuse) {
    return copy(from);
  }

  @Override
  public int getLength() {
    return -1;
  }

  @Override
  public void serialize(RunMonitor record, DataOutputView target) throws IOException {
    record.write(target);
  }

  @Override
  public RunMonitor deserialize(DataInputView source) throws IOException {
    return RunMonitor.read(DetectorConfig.DEFAULTS, source);
  }

  @Override
  public RunMonitor deserialize(RunMonitor reuse, DataInputView source) throws IOException {
    return deserialize(source);
  }

  @Override
  public void copy(DataInputView source, DataOutputView target) throws IOException {
    serialize(deserialize(source), target);
  }

  @Override
  public boolean equals(Object obj) {
    return obj instanceof RunMonitorSerializer;
  }

  @Override
  public int hashCode() {
    return RunMonitorSerializer.class.hashCode();
  }

  @Override
  public TypeSerializerSnapshot<RunMonitor> snapshotConfiguration() {
    return new Snapshot();
  }

  /** The format is versioned inside {@link RunMonitor}; the snapshot only names the class. */
  public static final class Snapshot extends SimpleTypeSerializerSnapshot<RunMonitor> {
    public Snapshot() {
      super(() -> INSTANCE);
    }
  }
}
