package dev.trainwatch.jobs.flink;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.RunMonitor;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink serializer for a run's state: the idle timer's time, then the detectors in {@link
 * RunMonitor#write}'s explicit, versioned binary format. This keeps Kryo out of the state path and
 * the state per run small and measurable. Restored monitors get the default config; the function
 * applies the job's config when it loads them.
 */
public final class RunStateSerializer extends TypeSerializer<RunState> {

  private static final long serialVersionUID = 1L;
  public static final RunStateSerializer INSTANCE = new RunStateSerializer();

  @Override
  public boolean isImmutableType() {
    return false;
  }

  @Override
  public TypeSerializer<RunState> duplicate() {
    return this; // stateless
  }

  @Override
  public RunState createInstance() {
    return null;
  }

  @Override
  public RunState copy(RunState from) {
    // Deep copy through the binary form: used by the heap backend's copy-on-write snapshots.
    try {
      var buf = new DataOutputSerializer(512);
      serialize(from, buf);
      return deserialize(new DataInputDeserializer(buf.getSharedBuffer(), 0, buf.length()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public RunState copy(RunState from, RunState reuse) {
    return copy(from);
  }

  @Override
  public int getLength() {
    return -1;
  }

  @Override
  public void serialize(RunState state, DataOutputView target) throws IOException {
    target.writeLong(state.idleTimerAt);
    target.writeLong(state.lastSeenMs);
    state.monitor.write(target);
  }

  @Override
  public RunState deserialize(DataInputView source) throws IOException {
    long idleTimerAt = source.readLong();
    long lastSeenMs = source.readLong();
    return new RunState(RunMonitor.read(DetectorConfig.DEFAULTS, source), idleTimerAt, lastSeenMs);
  }

  @Override
  public RunState deserialize(RunState reuse, DataInputView source) throws IOException {
    return deserialize(source);
  }

  @Override
  public void copy(DataInputView source, DataOutputView target) throws IOException {
    serialize(deserialize(source), target);
  }

  @Override
  public boolean equals(Object obj) {
    return obj instanceof RunStateSerializer;
  }

  @Override
  public int hashCode() {
    return RunStateSerializer.class.hashCode();
  }

  @Override
  public TypeSerializerSnapshot<RunState> snapshotConfiguration() {
    return new Snapshot();
  }

  /** The format is versioned inside {@link RunMonitor}; the snapshot only names the class. */
  public static final class Snapshot extends SimpleTypeSerializerSnapshot<RunState> {
    public Snapshot() {
      super(() -> INSTANCE);
    }
  }
}
