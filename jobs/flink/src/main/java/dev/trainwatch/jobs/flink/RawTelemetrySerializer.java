package dev.trainwatch.jobs.flink;

import dev.trainwatch.wire.TelemetryBinary;
import java.io.IOException;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * How {@link RawTelemetry} crosses the shuffle between the source and the keyed operator: the run
 * as UTF-8, the value bytes, partition and offset, written directly, and the run read back through
 * the shared cache of run names ({@link TelemetryBinary#runName}), so the keyed side hashes a run
 * it has seen before for free (keyBy and the state lookup both hash it).
 *
 * <p>Why not Flink's POJO serializer: it reflects on every field of every record and decodes the
 * run into a fresh string whose hash is computed again at the keyed operator; shuffling is paid by
 * every record. Never part of state (only of the stream), so the snapshot only names the class.
 */
public final class RawTelemetrySerializer extends TypeSerializer<RawTelemetry> {

  private static final long serialVersionUID = 1L;

  /** Scratch space for run names; per instance (Flink gives each task its own duplicate). */
  private transient byte[] scratch;

  @Override
  public boolean isImmutableType() {
    return true; // records are never mutated after the source emits them
  }

  @Override
  public TypeSerializer<RawTelemetry> duplicate() {
    return new RawTelemetrySerializer();
  }

  @Override
  public RawTelemetry createInstance() {
    return new RawTelemetry("", new byte[0], 0, 0);
  }

  @Override
  public RawTelemetry copy(RawTelemetry from) {
    return from;
  }

  @Override
  public RawTelemetry copy(RawTelemetry from, RawTelemetry reuse) {
    return from;
  }

  @Override
  public int getLength() {
    return -1;
  }

  @Override
  public void serialize(RawTelemetry r, DataOutputView out) throws IOException {
    String run = r.run();
    int n = run.length();
    boolean ascii = true;
    for (int i = 0; i < n && ascii; i++) {
      ascii = run.charAt(i) < 0x80;
    }
    if (ascii) {
      out.writeInt(n);
      for (int i = 0; i < n; i++) {
        out.write(run.charAt(i));
      }
    } else {
      byte[] b = run.getBytes(StandardCharsets.UTF_8);
      out.writeInt(b.length);
      out.write(b);
    }
    out.writeInt(r.value().length);
    out.write(r.value());
    out.writeInt(r.partition());
    out.writeLong(r.offset());
  }

  @Override
  public RawTelemetry deserialize(DataInputView in) throws IOException {
    int n = in.readInt();
    byte[] s = scratch;
    if (s == null || s.length < n) {
      s = scratch = new byte[Math.max(n, 256)];
    }
    in.readFully(s, 0, n);
    String run = TelemetryBinary.runName(s, 0, n);
    byte[] value = new byte[in.readInt()];
    in.readFully(value);
    int partition = in.readInt();
    return new RawTelemetry(run, value, partition, in.readLong());
  }

  @Override
  public RawTelemetry deserialize(RawTelemetry reuse, DataInputView in) throws IOException {
    return deserialize(in);
  }

  @Override
  public void copy(DataInputView in, DataOutputView out) throws IOException {
    int n = in.readInt();
    out.writeInt(n);
    out.write(in, n);
    int v = in.readInt();
    out.writeInt(v);
    out.write(in, v);
    out.writeInt(in.readInt());
    out.writeLong(in.readLong());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RawTelemetrySerializer;
  }

  @Override
  public int hashCode() {
    return RawTelemetrySerializer.class.hashCode();
  }

  @Override
  public TypeSerializerSnapshot<RawTelemetry> snapshotConfiguration() {
    return new Snapshot();
  }

  /** The serializer has no configuration: the snapshot names the class. */
  public static final class Snapshot extends SimpleTypeSerializerSnapshot<RawTelemetry> {
    public Snapshot() {
      super(RawTelemetrySerializer::new);
    }
  }

  /** {@link RawTelemetry}'s type information: this serializer (via {@code @TypeInfo}). */
  public static final class Factory extends TypeInfoFactory<RawTelemetry> {
    @Override
    public TypeInformation<RawTelemetry> createTypeInfo(
        Type t, Map<String, TypeInformation<?>> genericParameters) {
      return new Info();
    }
  }

  /** Type information for {@link RawTelemetry}: an opaque type with its own serializer. */
  public static final class Info extends TypeInformation<RawTelemetry> {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean isBasicType() {
      return false;
    }

    @Override
    public boolean isTupleType() {
      return false;
    }

    @Override
    public int getArity() {
      return 1;
    }

    @Override
    public int getTotalFields() {
      return 1;
    }

    @Override
    public Class<RawTelemetry> getTypeClass() {
      return RawTelemetry.class;
    }

    @Override
    public boolean isKeyType() {
      return false;
    }

    @Override
    public TypeSerializer<RawTelemetry> createSerializer(SerializerConfig config) {
      return new RawTelemetrySerializer();
    }

    @Override
    public String toString() {
      return "RawTelemetry";
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Info;
    }

    @Override
    public int hashCode() {
      return Info.class.hashCode();
    }

    @Override
    public boolean canEqual(Object o) {
      return o instanceof Info;
    }
  }
}
