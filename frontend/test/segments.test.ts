import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { Gap, Sample, Value } from "../src/buffer";
import {
  alarmIndices,
  drawnData,
  inForceIndex,
  outageAt,
  readingAt,
  sampleIndices,
  type Held,
  type ReadingContext,
} from "../src/segments";

function held(t: number[], v: Value[], gaps: Gap[] = [], before: Sample | null = null): Held {
  return { t, v, gaps, before };
}

const S = 1000;

describe("lines break only at real outages", () => {
  it("holds long steady stretches of an exception-logged signal together", () => {
    // Intervals of 2 s to 246 s while healthy: no outage listed, no break.
    const t = [0, 2, 4, 93, 339, 341, 430].map((x) => x * S);
    const d = drawnData(held(t, [37, 37.1, 37, 37.2, 37.1, 37, 37.1]));
    assert.deepEqual(d.x, t);
    assert.ok(!d.y.includes(null));
  });

  it("puts a null inside every outage the server found, and nowhere else", () => {
    const t = [0, 10, 20, 400, 410].map((x) => x * S);
    const d = drawnData(held(t, [1, 2, 3, 4, 5], [[20 * S, 400 * S]]));
    assert.deepEqual(d.x, [0, 10 * S, 20 * S, 210 * S, 400 * S, 410 * S]);
    assert.deepEqual(d.y, [1, 2, 3, null, 4, 5]);
  });

  it("breaks M4 points only where the raw rows had an outage", () => {
    // Downsampled points may be far apart within a bucket; only the listed pair breaks.
    const t = [0, 300, 301, 900, 5000, 5300].map((x) => x * S);
    const d = drawnData(held(t, [1, 9, 2, 8, 3, 4], [[900 * S, 5000 * S]]));
    assert.equal(d.y.filter((y) => y === null).length, 1);
    assert.equal(d.x[d.y.indexOf(null)], (900 * S + 5000 * S) / 2);
  });

  it("starts the line at the value in force before the window", () => {
    const d = drawnData(held([50 * S, 60 * S], [2, 3], [], { t: 0, v: 1 }));
    assert.deepEqual(d.x, [0, 50 * S, 60 * S]);
    assert.deepEqual(d.y, [1, 2, 3]);
  });

  it("does not carry the value before the window across an outage", () => {
    const d = drawnData(held([500 * S], [2], [[0, 500 * S]], { t: 0, v: 1 }));
    assert.deepEqual(d.y, [1, null, 2]);
  });

  it("carries a step series' last value to holdUntil", () => {
    const d = drawnData(held([0, 10 * S], [1, 2]), 40 * S);
    assert.deepEqual(d.x, [0, 10 * S, 40 * S]);
    assert.deepEqual(d.y, [1, 2, 2]);
    // A NULL row has no value to hold.
    const n = drawnData(held([0, 10 * S], [1, null]), 40 * S);
    assert.deepEqual(n.x, [0, 10 * S]);
  });

  it("marks a sample between two outages as isolated (drawn as a dot)", () => {
    const t = [0, 500, 1000].map((x) => x * S);
    const d = drawnData(held(t, [1, 2, 3], [[0, 500 * S], [500 * S, 1000 * S]]));
    assert.deepEqual(d.y, [1, null, 2, null, 3]);
    assert.deepEqual(d.isolated, [0, 2, 4]);
  });
});

describe("the value in force at the cursor", () => {
  const ctx: ReadingContext = { exactMs: 0.5 * S, gapMs: 300 * S, following: true, from: 0, to: Infinity };
  const h = held([10 * S, 100 * S, 1000 * S, 1010 * S], [37, 37.5, 38, 38.1], [[100 * S, 1000 * S]], { t: 0, v: 36.9 });

  it("is the last sample at or before the cursor, with its own time", () => {
    assert.deepEqual(readingAt(h, 50 * S, ctx), { kind: "value", t: 10 * S, v: 37, exact: false });
    assert.deepEqual(readingAt(h, 5 * S, ctx), { kind: "value", t: 0, v: 36.9, exact: false }, "before the first held row");
  });

  it("is the sample at the cursor instant when there is one (within half a pixel)", () => {
    assert.deepEqual(readingAt(h, 10.3 * S, ctx), { kind: "value", t: 10 * S, v: 37, exact: true });
    assert.deepEqual(readingAt(h, 9.8 * S, ctx), { kind: "value", t: 10 * S, v: 37, exact: true });
  });

  it("says so plainly inside an outage", () => {
    assert.deepEqual(readingAt(h, 500 * S, ctx), { kind: "outage", from: 100 * S, to: 1000 * S });
    assert.deepEqual(outageAt(h.gaps, 100 * S), null, "the outage's first sample is not inside it");
  });

  it("reports an outage still going on after the newest sample", () => {
    assert.deepEqual(readingAt(h, 1200 * S, ctx), { kind: "value", t: 1010 * S, v: 38.1, exact: false });
    assert.deepEqual(readingAt(h, 1400 * S, ctx), { kind: "outage", from: 1010 * S, to: null });
    // Without live rows behind the buffer, a silence after it says nothing.
    assert.deepEqual(readingAt(h, 1400 * S, { ...ctx, following: false, to: 2000 * S }).kind, "value");
  });

  it("says nothing where nothing is loaded", () => {
    const fixed = { ...ctx, from: 10 * S, to: 1010 * S, following: false };
    const bare = held([10 * S], [1]);
    assert.deepEqual(readingAt(bare, 5 * S, fixed), { kind: "none" });
    assert.deepEqual(readingAt(bare, 5000 * S, fixed), { kind: "none" });
  });

  it("keeps NULL rows as NULL and reads µs times exactly", () => {
    const t0 = 1_741_089_600_000.123;
    const r = readingAt(held([t0, t0 + 5000], [null, 2]), t0 + 1000, { ...ctx, exactMs: 1 });
    assert.deepEqual(r, { kind: "value", t: t0, v: null, exact: false });
  });

  it("shows the last of rows sharing the cursor instant", () => {
    const r = readingAt(held([10, 20, 20, 30], [1, 2, 2.5, 3]), 20, { ...ctx, exactMs: 1 });
    assert.deepEqual(r, { kind: "value", t: 20, v: 2.5, exact: true });
  });
});

describe("what the chart marks", () => {
  const d = drawnData(held([0, 10, 20, 400, 410].map((x) => x * S), [37, 38, 37.2, 37.1, 37], [[20 * S, 400 * S]]), 420 * S);

  it("puts the hover dot on the sample in force, none inside an outage", () => {
    assert.equal(inForceIndex(d, 1, 15 * S, 0.5 * S), 1, "held since the sample at 10 s");
    assert.equal(inForceIndex(d, 1, 10.2 * S, 0.5 * S), 1, "at the sample");
    assert.equal(d.y[inForceIndex(d, 2, 100 * S, 0.5 * S)], null, "no dot inside the outage");
  });

  it("counts only real samples, not the value carried forward", () => {
    assert.equal(d.held, d.x.length - 1);
    assert.ok(!sampleIndices(d, 0, 1000 * S).includes(d.held));
  });

  it("marks out-of-limit samples", () => {
    assert.deepEqual(alarmIndices(d, 0, 1000 * S, null, 37.5), [1]);
    assert.deepEqual(alarmIndices(d, 0, 1000 * S, null, null), []);
  });
});
