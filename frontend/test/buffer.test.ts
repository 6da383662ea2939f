import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  SeriesBuffer,
  gapThreshold,
  lowerBound,
  medianInterval,
  upperBound,
  withGaps,
} from "../src/buffer";

function buf(t: number[], v?: (number | null)[], seq = 0): SeriesBuffer {
  const b = new SeriesBuffer();
  b.beginReload();
  b.finishReload(t, v ?? t.map((x) => x / 10), seq);
  return b;
}

describe("bounds", () => {
  it("finds lower and upper bounds around equal runs", () => {
    const a = [1, 2, 2, 2, 5];
    assert.equal(lowerBound(a, 2), 1);
    assert.equal(upperBound(a, 2), 4);
    assert.equal(lowerBound(a, 0), 0);
    assert.equal(upperBound(a, 9), 5);
  });
});

describe("merge", () => {
  it("appends an in-order batch", () => {
    const b = buf([1, 2, 3]);
    b.merge([4, 5], [0.4, 0.5]);
    assert.deepEqual(b.t, [1, 2, 3, 4, 5]);
    assert.deepEqual(b.v, [0.1, 0.2, 0.3, 0.4, 0.5]);
  });

  it("merges late rows in place, keeping the order sorted", () => {
    const b = buf([10, 20, 30, 40]);
    b.merge([15, 35, 50], [1.5, 3.5, 5]);
    assert.deepEqual(b.t, [10, 15, 20, 30, 35, 40, 50]);
    assert.deepEqual(b.v, [1, 1.5, 2, 3, 3.5, 4, 5]);
  });

  it("merges a late row older than everything held", () => {
    const b = buf([10, 20]);
    b.merge([5], [9]);
    assert.deepEqual(b.t, [5, 10, 20]);
    assert.deepEqual(b.v, [9, 1, 2]);
  });

  it("keeps rows with equal timestamps as distinct rows, in arrival order", () => {
    const b = buf([10, 20, 30], [1, 2, 3]);
    // A second row at the newest timestamp (committed after the first was sent).
    b.merge([30], [3.3]);
    // And one inside the buffer, also sharing a timestamp.
    b.merge([20, 25], [2.2, 2.5]);
    assert.deepEqual(b.t, [10, 20, 20, 25, 30, 30]);
    assert.deepEqual(b.v, [1, 2, 2.2, 2.5, 3, 3.3]);
  });

  it("stores null values as null", () => {
    const b = buf([1], [1]);
    b.merge([2, 3], [null, 3]);
    assert.deepEqual(b.v, [1, null, 3]);
  });
});

describe("append and seq", () => {
  it("applies appends with increasing seq and tracks it", () => {
    const b = buf([1, 2], [1, 2], 7);
    assert.equal(b.append({ t: [3], v: [3], seq: 8 }), "applied");
    assert.equal(b.seq, 8);
    assert.deepEqual(b.t, [1, 2, 3]);
  });

  it("drops a replayed append whose seq is not above the held seq", () => {
    const b = buf([1, 2, 3], [1, 2, 3], 8);
    assert.equal(b.append({ t: [3], v: [3], seq: 8 }), "duplicate");
    assert.equal(b.append({ t: [2, 3], v: [2, 3], seq: 5 }), "duplicate");
    assert.deepEqual(b.t, [1, 2, 3]);
    assert.equal(b.seq, 8);
  });

  it("queues appends during a reload and applies only those newer than the snapshot", () => {
    const b = buf([1, 2], [1, 2], 3);
    b.beginReload();
    assert.ok(b.reloading);
    // Seq 4 is already inside the snapshot taken at seq 4; seq 5 is not.
    assert.equal(b.append({ t: [3], v: [3], seq: 4 }), "queued");
    assert.equal(b.append({ t: [4], v: [4], seq: 5 }), "queued");
    assert.deepEqual(b.t, [1, 2], "nothing applied while reloading");
    b.finishReload([1, 2, 3], [1, 2, 3], 4);
    assert.ok(!b.reloading);
    assert.deepEqual(b.t, [1, 2, 3, 4]);
    assert.equal(b.seq, 5);
  });

  it("applies queued appends when a reload fails", () => {
    const b = buf([1], [1], 1);
    b.beginReload();
    b.append({ t: [2], v: [2], seq: 2 });
    b.cancelReload();
    assert.deepEqual(b.t, [1, 2]);
    assert.equal(b.seq, 2);
  });
});

describe("replay after a reconnect", () => {
  it("merges a replay even when its seq is not above ours (a restarted server counts afresh)", () => {
    const b = buf([1, 2, 3], [1, 2, 3], 40);
    assert.equal(b.append({ t: [4, 5], v: [4, 5], seq: 3, replay: true }), "applied");
    assert.deepEqual(b.t, [1, 2, 3, 4, 5]);
    assert.equal(b.seq, 3, "the new server's counter is adopted");
    assert.equal(b.append({ t: [6], v: [6], seq: 4 }), "applied", "and its next live batch is applied");
    assert.equal(b.append({ t: [6], v: [6], seq: 4 }), "duplicate");
  });

  it("drops a queued replay the snapshot already covers", () => {
    const b = buf([1, 2], [1, 2], 5);
    b.beginReload();
    b.append({ t: [3, 4], v: [3, 4], seq: 7, replay: true });
    b.finishReload([1, 2, 3, 4], [1, 2, 3, 4], 7);
    assert.deepEqual(b.t, [1, 2, 3, 4]);
  });

  it("takes from a newer queued replay only the rows past the snapshot", () => {
    const b = buf([1, 2], [1, 2], 5);
    b.beginReload();
    // Replay at seq 8 holds rows 3..5; the snapshot (seq 7) already has 3 and 4.
    b.append({ t: [3, 4, 5], v: [3, 4, 5], seq: 8, replay: true });
    b.append({ t: [6], v: [6], seq: 9 });
    b.finishReload([1, 2, 3, 4], [1, 2, 3, 4], 7);
    assert.deepEqual(b.t, [1, 2, 3, 4, 5, 6]);
    assert.equal(b.seq, 9);
  });
});

describe("trim", () => {
  it("keeps rows inside [min, max], inclusive", () => {
    const b = buf([1, 2, 3, 4, 5, 6]);
    b.trim(2, 5);
    assert.deepEqual(b.t, [2, 3, 4, 5]);
    assert.deepEqual(b.v, [0.2, 0.3, 0.4, 0.5]);
  });

  it("keeps equal-timestamp runs at the edges whole", () => {
    const b = buf([1, 2, 2, 3, 3], [1, 2, 2.1, 3, 3.1]);
    b.trim(2, 3);
    assert.deepEqual(b.t, [2, 2, 3, 3]);
  });

  it("can empty the buffer", () => {
    const b = buf([1, 2, 3]);
    b.trim(10, 20);
    assert.equal(b.length, 0);
    assert.equal(b.lastT, null);
  });
});

describe("gaps", () => {
  it("inserts a null inside every gap longer than the threshold", () => {
    const t = [0, 1000, 2000, 60_000, 61_000, 200_000];
    const v = [1, 2, 3, 4, 5, 6];
    const g = withGaps(t, v, 5000);
    assert.equal(g.gaps, 2);
    assert.deepEqual(g.t, [0, 1000, 2000, 31_000, 60_000, 61_000, 130_500, 200_000]);
    assert.deepEqual(g.v, [1, 2, 3, null, 4, 5, null, 6]);
  });

  it("returns the same arrays when there is no gap", () => {
    const t = [0, 1000, 2000, 5000];
    const v = [1, 2, 3, 4];
    const g = withGaps(t, v, 5000);
    assert.equal(g.gaps, 0);
    assert.equal(g.t, t);
    assert.equal(g.v, v);
  });

  it("derives the threshold from the interval and the downsampling bucket", () => {
    assert.equal(gapThreshold(2000), 10_000);
    assert.equal(gapThreshold(2000, 60_000), 150_000);
    assert.equal(gapThreshold(null), 30_000);
  });

  it("measures the median interval of irregular sampling", () => {
    assert.equal(medianInterval([0, 1000, 2000, 3000, 240_000]), 1000);
    assert.equal(medianInterval([5]), null);
  });
});

describe("nearest", () => {
  it("finds the nearest row to a time", () => {
    const b = buf([0, 10, 20]);
    assert.equal(b.nearest(-5), 0);
    assert.equal(b.nearest(4), 0);
    assert.equal(b.nearest(6), 1);
    assert.equal(b.nearest(99), 2);
  });
});
