import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { addRows, fromServer } from "../src/livestats";
import type { SeriesStats } from "../src/types";

const base: SeriesStats = { key: "do", start: 0, end: 10_000, count: 4, min: 40, max: 42, mean: 41, last: 41.5, last_t: 10_000 };

describe("window statistics follow live rows", () => {
  it("counts a new row at once: count, min, max, mean, last", () => {
    const s = addRows(fromServer(base), [11_000], [44], Infinity).stats;
    assert.equal(s.count, 5);
    assert.equal(s.max, 44);
    assert.equal(s.min, 40);
    assert.equal(s.mean, (41 * 4 + 44) / 5);
    assert.equal(s.last, 44);
    assert.equal(s.last_t, 11_000);
  });

  it("counts each row once, however often it is offered", () => {
    let ls = fromServer(base);
    ls = addRows(ls, [9_000, 10_000, 11_000], [1, 2, 3], Infinity);
    ls = addRows(ls, [11_000, 12_000], [3, 4], Infinity);
    assert.equal(ls.stats.count, 6);
    assert.equal(ls.stats.min, 3);
  });

  it("skips NULL rows and rows past a fixed window", () => {
    const ls = addRows(fromServer(base), [11_000, 12_000], [null, 50], 11_500);
    assert.equal(ls.stats.count, 4);
    assert.equal(ls.stats.max, 42);
  });

  it("starts from nothing when the window was empty", () => {
    const empty: SeriesStats = { ...base, count: 0, min: null, max: null, mean: null, last: null, last_t: null };
    const s = addRows(fromServer(empty), [11_000], [7], Infinity).stats;
    assert.deepEqual([s.count, s.min, s.max, s.mean, s.last], [1, 7, 7, 7, 7]);
  });
});
