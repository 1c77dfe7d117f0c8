package dev.trainwatch.jobs.detect.softmaxcollapse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class TrendTest {

  @Test
  void recoversALineFromSparseIrregularSteps() {
    Trend t = new Trend();
    long[] steps = {0, 7, 50, 51, 300, 1000, 1003, 5000, 5050, 5400};
    for (long s : steps) {
      t.add(s, 3.0 + 0.004 * s, 200);
    }
    assertThat(t.slope()).isCloseTo(0.004, within(1e-9));
    assertThat(t.level()).isCloseTo(3.0 + 0.004 * 5400, within(1e-6));
    assertThat(t.count()).isEqualTo(steps.length);
    assertThat(t.span()).isEqualTo(5400);
  }

  @Test
  void ignoresNonFiniteValuesAndOutOfOrderSteps() {
    Trend t = new Trend();
    t.add(10, 1.0, 100);
    t.add(20, Double.NaN, 100);
    t.add(5, 9.0, 100);
    assertThat(t.count()).isEqualTo(1);
    assertThat(t.slope()).isNaN();
    assertThat(t.level()).isEqualTo(1.0);
  }

  @Test
  void forgetsOldBehaviourAfterAFewTau() {
    Trend t = new Trend();
    for (long s = 0; s <= 3000; s += 10) {
      t.add(s, s <= 1000 ? 0.01 * s : 10.0, 200); // rises, then flat for 10 tau
    }
    assertThat(t.slope()).isCloseTo(0.0, within(1e-4));
    assertThat(t.level()).isCloseTo(10.0, within(0.01));
  }

  @Test
  void roundTripsItsState() throws IOException {
    Trend t = new Trend();
    for (long s = 0; s < 500; s += 50) {
      t.add(s, Math.sqrt(s), 200);
    }
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    t.write(new DataOutputStream(b));
    Trend u = new Trend();
    u.read(new DataInputStream(new ByteArrayInputStream(b.toByteArray())));
    t.add(600, 30, 200);
    u.add(600, 30, 200);
    assertThat(u.slope()).isEqualTo(t.slope());
    assertThat(u.level()).isEqualTo(t.level());
  }
}
