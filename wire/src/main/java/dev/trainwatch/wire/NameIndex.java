package dev.trainwatch.wire;

/**
 * A hash index of one metric-name array, for {@link Metrics#indexOf} on wide records.
 *
 * <p>Why: detectors look metrics up by name (~20 lookups a record, several of names a run never
 * sends, such as {@code sharpness}). On a 20-metric record a linear scan is the fastest lookup, but
 * on a per-layer record of 1,000 metrics each absent name scans all 1,000 twice, ~40,000
 * comparisons a record: that, with the parser's duplicate check, made a metric of a wide record ten
 * times as costly as one of a narrow record. Producers send the same names in the same order step
 * after step, and the parser hands records of one shape the same names array ({@link
 * FastRecordReader}), so the index is built once per shape and found again by the array's identity:
 * a lookup is one hash probe.
 *
 * <p>The cache is direct-mapped and lossy (a colliding shape replaces the slot), so memory stays
 * fixed however many shapes pass; entries are immutable, so racing threads at worst build an index
 * twice.
 */
final class NameIndex {

  /**
   * Below this many names a linear scan is as fast as a hash probe. Narrow (20-metric) records use
   * the index too: detectors look up many names a run never sends, and an absent name costs a scan
   * of every name twice (identity, then equals) but a hash probe only one empty slot; with 8
   * instead of 32 all 14 detectors took 10-15% less per 20-metric record, and the lookups had been
   * 18% of the job's keyed operator.
   */
  static final int MIN_NAMES = 8;

  private static final NameIndex[] CACHE = new NameIndex[64];

  private final String[] names;

  /** Open addressing: index + 1 of the name in the slot, 0 = empty; size a power of two >= 2n. */
  private final int[] slots;

  private final int mask;

  private NameIndex(String[] names, int[] slots) {
    this.names = names;
    this.slots = slots;
    this.mask = slots.length - 1;
  }

  /** The index of {@code names} (cached by the array's identity), or null if a name repeats. */
  static NameIndex of(String[] names) {
    int slot = System.identityHashCode(names) & (CACHE.length - 1);
    NameIndex i = CACHE[slot];
    if (i != null && i.names == names) {
      return i;
    }
    i = build(names);
    if (i != null) { // a validated record has no duplicate; a hand-built one may
      CACHE[slot] = i;
    }
    return i;
  }

  /** The index, or null when {@code names} holds a name twice (the parser's duplicate check). */
  static NameIndex build(String[] names) {
    int[] slots = new int[Integer.highestOneBit(Math.max(names.length, 1) * 2 + 1) << 1];
    int mask = slots.length - 1;
    for (int k = 0; k < names.length; k++) {
      String name = names[k];
      int s = spread(name.hashCode()) & mask;
      while (slots[s] != 0) {
        if (names[slots[s] - 1].equals(name)) {
          return null;
        }
        s = (s + 1) & mask;
      }
      slots[s] = k + 1;
    }
    return new NameIndex(names, slots);
  }

  /** Registers an index already built (by the parser's duplicate check) for its array. */
  static void remember(NameIndex index) {
    CACHE[System.identityHashCode(index.names) & (CACHE.length - 1)] = index;
  }

  int indexOf(String name) {
    int s = spread(name.hashCode()) & mask;
    int k;
    while ((k = slots[s]) != 0) {
      String n = names[k - 1];
      if (n == name || n.equals(name)) {
        return k - 1;
      }
      s = (s + 1) & mask;
    }
    return -1;
  }

  private static int spread(int h) {
    return h ^ (h >>> 16);
  }
}
