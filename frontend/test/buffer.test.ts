import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { SeriesBuffer, lowerBound, upperBound, type Gap, type Sample, type Value } from "../src/buffer";

interface Opts {
  seq?: number;
  gaps?: Gap[];
  before?: Sample | null;
  start?: number;
  /** Infinity (the default): the snapshot reaches the newest row, live rows continue it. */
  end?: number;
  gapMs?: number | null;
}

function buf(t: number[], v?: Value[], o: Opts = {}): SeriesBuffer {
  const b = new SeriesBuffer();
  b.gapMs = o.gapMs === undefined ? 10_000 : o.gapMs;
  b.beginReload();
  b.finishReload({
    t,
    v: v ?? t.map((x) => x / 10),
    seq: o.seq ?? 0,
    gaps: o.gaps ?? [],
    before: o.before ?? null,
    start: o.start ?? (t[0] ?? 0),
    end: o.end ?? Infinity,
  });
  return b;
}

let seq = 100;
/** A live append (a fresh seq each time). */
function live(b: SeriesBuffer, t: number[], v?: Value[]) {
  return b.append({ t, v: v ?? t.map((x) => x / 10), seq: ++seq });
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
    live(b, [4, 5], [0.4, 0.5]);
    assert.deepEqual(b.t, [1, 2, 3, 4, 5]);
    assert.deepEqual(b.v, [0.1, 0.2, 0.3, 0.4, 0.5]);
  });

  it("merges late rows in place, keeping the order sorted", () => {
    const b = buf([10, 20, 30, 40]);
    live(b, [15, 35, 50], [1.5, 3.5, 5]);
    assert.deepEqual(b.t, [10, 15, 20, 30, 35, 40, 50]);
    assert.deepEqual(b.v, [1, 1.5, 2, 3, 3.5, 4, 5]);
  });

  it("keeps rows with equal timestamps as distinct rows, in arrival order", () => {
    const b = buf([10, 20, 30], [1, 2, 3]);
    // A second row at the newest timestamp (committed after the first was sent).
    live(b, [30], [3.3]);
    // And one inside the buffer, also sharing a timestamp.
    live(b, [20, 25], [2.2, 2.5]);
    assert.deepEqual(b.t, [10, 20, 20, 25, 30, 30]);
    assert.deepEqual(b.v, [1, 2, 2.2, 2.5, 3, 3.3]);
  });

  it("stores null values as null", () => {
    const b = buf([1], [1]);
    live(b, [2, 3], [null, 3]);
    assert.deepEqual(b.v, [1, null, 3]);
  });

  it("keeps microsecond times exactly, and sends the newest one back as since", () => {
    const t0 = 1_741_089_600_000.123;
    const t1 = 1_741_089_600_000.124; // one µs later: a different row
    const b = buf([t0], [1]);
    live(b, [t1], [2]);
    assert.deepEqual(b.t, [t0, t1]);
    assert.equal(b.newestHeld(), t1);
    assert.notEqual(b.newestHeld(), Math.round(t1));
  });

  it("ignores rows outside the range it holds every row of", () => {
    // A fixed window of the past: a live row far after it would sit next to rows we do not hold.
    const b = buf([10, 20], [1, 2], { start: 10, end: 30 });
    assert.equal(live(b, [5_000], [9]), "ignored");
    assert.equal(live(b, [25], [2.5]), "applied", "a late row inside the window is merged");
    assert.deepEqual(b.t, [10, 20, 25]);
    assert.ok(!b.following);
  });
});

describe("append and seq", () => {
  it("applies appends with increasing seq and tracks it", () => {
    const b = buf([1, 2], [1, 2], { seq: 7 });
    assert.equal(b.append({ t: [3], v: [3], seq: 8 }), "applied");
    assert.equal(b.seq, 8);
    assert.deepEqual(b.t, [1, 2, 3]);
  });

  it("drops a live append whose seq is not above the held seq", () => {
    const b = buf([1, 2, 3], [1, 2, 3], { seq: 8 });
    assert.equal(b.append({ t: [3], v: [3], seq: 8 }), "duplicate");
    assert.equal(b.append({ t: [2, 3], v: [2, 3], seq: 5 }), "duplicate");
    assert.deepEqual(b.t, [1, 2, 3]);
    assert.equal(b.seq, 8);
  });

  it("queues appends during a reload and applies only those newer than the snapshot", () => {
    const b = buf([1, 2], [1, 2], { seq: 3 });
    b.beginReload();
    assert.ok(b.reloading);
    // Seq 4 is already inside the snapshot taken at seq 4; seq 5 is not.
    assert.equal(b.append({ t: [3], v: [3], seq: 4 }), "queued");
    assert.equal(b.append({ t: [4], v: [4], seq: 5 }), "queued");
    assert.deepEqual(b.t, [1, 2], "nothing applied while reloading");
    b.finishReload({ t: [1, 2, 3], v: [1, 2, 3], seq: 4, gaps: [], before: null, start: 1, end: Infinity });
    assert.ok(!b.reloading);
    assert.deepEqual(b.t, [1, 2, 3, 4]);
    assert.equal(b.seq, 5);
  });

  it("applies queued appends when a reload fails", () => {
    const b = buf([1], [1], { seq: 1 });
    b.beginReload();
    b.append({ t: [2], v: [2], seq: 2 });
    b.cancelReload();
    assert.deepEqual(b.t, [1, 2]);
    assert.equal(b.seq, 2);
  });
});

describe("replay after a subscribe is authoritative above since", () => {
  it("drops the rows held after since and takes the replay's", () => {
    const b = buf([1, 2, 3], [1, 2, 3], { seq: 10 });
    b.expectReplay(3);
    // Live rows that reached us between connecting and the replay...
    assert.equal(b.append({ t: [4], v: [4], seq: 11 }), "applied");
    assert.equal(b.append({ t: [5], v: [5], seq: 12 }), "applied");
    // ...are in the replay too: each row is kept once.
    assert.equal(b.append({ t: [4, 5, 6], v: [4, 5, 6], seq: 13, replay: true }), "applied");
    assert.deepEqual(b.t, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(b.v, [1, 2, 3, 4, 5, 6]);
    assert.equal(b.seq, 13);
    // Live appends queued after the replay are new.
    assert.equal(b.append({ t: [7], v: [7], seq: 14 }), "applied");
    assert.deepEqual(b.t, [1, 2, 3, 4, 5, 6, 7]);
  });

  it("takes the replay whatever its seq (a restarted server counts afresh)", () => {
    const b = buf([1, 2, 3], [1, 2, 3], { seq: 40 });
    b.expectReplay(3);
    assert.equal(b.append({ t: [4, 5], v: [4, 5], seq: 3, replay: true }), "applied");
    assert.deepEqual(b.t, [1, 2, 3, 4, 5]);
    assert.equal(b.seq, 3, "the new server's counter is adopted");
    assert.equal(b.append({ t: [6], v: [6], seq: 4 }), "applied", "and its next live batch is applied");
    assert.equal(b.append({ t: [6], v: [6], seq: 4 }), "duplicate");
  });

  it("takes an empty replay without asking for a redraw", () => {
    const b = buf([1, 2, 3], [1, 2, 3], { seq: 10 });
    b.expectReplay(3);
    assert.equal(b.append({ t: [], v: [], seq: 12, replay: true }), "ignored");
    assert.deepEqual(b.t, [1, 2, 3]);
    assert.equal(b.seq, 12, "its seq is adopted all the same");
    assert.equal(b.append({ t: [4], v: [4], seq: 13 }), "applied");
  });

  it("replaces a live row the replay corrects (same time, other value)", () => {
    const b = buf([1, 2], [1, 2], { seq: 5 });
    b.expectReplay(2);
    b.append({ t: [3], v: [3], seq: 6 });
    b.append({ t: [3], v: [3.5], seq: 6, replay: true });
    assert.deepEqual(b.t, [1, 2, 3]);
    assert.deepEqual(b.v, [1, 2, 3.5]);
  });

  it("sends the exact µs time as since, and the replay starts strictly after it", () => {
    const t = [1000.001, 1000.002];
    const b = buf(t, [1, 2], { seq: 1 });
    const since = b.newestHeld()!;
    assert.equal(since, 1000.002);
    b.expectReplay(since);
    b.append({ t: [1000.003], v: [3], seq: 2, replay: true });
    assert.deepEqual(b.t, [1000.001, 1000.002, 1000.003]);
  });

  it("drops a queued replay the snapshot already covers", () => {
    const b = buf([1, 2], [1, 2], { seq: 5 });
    b.expectReplay(2);
    b.beginReload();
    b.append({ t: [3, 4], v: [3, 4], seq: 7, replay: true });
    b.finishReload({ t: [1, 2, 3, 4], v: [1, 2, 3, 4], seq: 7, gaps: [], before: null, start: 1, end: Infinity });
    assert.deepEqual(b.t, [1, 2, 3, 4]);
  });

  it("takes a newer queued replay over the snapshot's rows after since", () => {
    const b = buf([1, 2], [1, 2], { seq: 5 });
    b.expectReplay(2);
    b.beginReload();
    // Replay at seq 8 holds rows 3..5; the snapshot (seq 7) already has 3 and 4.
    b.append({ t: [3, 4, 5], v: [3, 4, 5], seq: 8, replay: true });
    b.append({ t: [6], v: [6], seq: 9 });
    b.finishReload({ t: [1, 2, 3, 4], v: [1, 2, 3, 4], seq: 7, gaps: [], before: null, start: 1, end: Infinity });
    assert.deepEqual(b.t, [1, 2, 3, 4, 5, 6]);
    assert.equal(b.seq, 9);
  });
});

describe("outages", () => {
  it("takes the server's gaps with a snapshot", () => {
    const b = buf([0, 1000, 600_000, 601_000], [1, 1, 2, 2], { gaps: [[1000, 600_000]], gapMs: 300_000 });
    assert.deepEqual(b.gaps, [[1000, 600_000]]);
  });

  it("starts a new segment when a live row comes further than gap_ms after the previous one", () => {
    const b = buf([0, 1000], [1, 1], { gapMs: 5000 });
    live(b, [4000, 60_000, 61_000], [1, 2, 2]);
    assert.deepEqual(b.gaps, [[4000, 60_000]]);
    // An interval of exactly gap_ms is not an outage.
    live(b, [66_000], [3]);
    assert.deepEqual(b.gaps, [[4000, 60_000]]);
  });

  it("measures a first live row against the sample before the window when nothing else is held", () => {
    const b = buf([], [], { before: { t: 0, v: 1 }, start: 100, gapMs: 5000 });
    live(b, [20_000], [2]);
    assert.deepEqual(b.gaps, [[0, 20_000]]);
  });

  it("splits an outage that late (store-and-forward) rows fill in", () => {
    const b = buf([0, 100_000], [1, 2], { gaps: [[0, 100_000]], gapMs: 30_000 });
    b.append({ t: [10_000, 20_000], v: [1.1, 1.2], seq: 500 });
    // 20 s → 100 s is still longer than 30 s: an outage; 0 → 10 → 20 is not.
    assert.deepEqual(b.gaps, [[20_000, 100_000]]);
    b.append({ t: [60_000], v: [1.5], seq: 501 });
    assert.deepEqual(b.gaps, [
      [20_000, 60_000],
      [60_000, 100_000],
    ]);
    b.append({ t: [80_000], v: [1.8], seq: 502 });
    assert.deepEqual(b.gaps, [[20_000, 60_000]]);
  });

  it("drops outages with the rows a replay replaces", () => {
    const b = buf([0], [1], { gapMs: 5000, seq: 1 });
    b.expectReplay(0);
    b.append({ t: [100_000], v: [2], seq: 2 });
    assert.deepEqual(b.gaps, [[0, 100_000]]);
    b.append({ t: [3000, 6000], v: [1, 1], seq: 3, replay: true });
    assert.deepEqual(b.gaps, []);
    assert.deepEqual(b.t, [0, 3000, 6000]);
  });
});

describe("a sliding live window", () => {
  it("drops rows behind it and keeps the last one as the value in force", () => {
    const b = buf([1, 2, 3, 4, 5, 6]);
    b.trimBefore(3.5);
    assert.deepEqual(b.t, [4, 5, 6]);
    assert.deepEqual(b.before, { t: 3, v: 0.3 });
    assert.ok(b.covers(3.5, 100));
  });

  it("keeps an outage that starts at the new before", () => {
    const b = buf([0, 1, 100, 101], [1, 1, 2, 2], { gaps: [[1, 100]], gapMs: 10 });
    b.trimBefore(50);
    assert.deepEqual(b.before, { t: 1, v: 1 });
    assert.deepEqual(b.gaps, [[1, 100]]);
    b.trimBefore(100.5);
    assert.deepEqual(b.gaps, []);
  });
});
