import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { isoToMs } from "../src/api";
import { parseYRange, readYRanges } from "../src/url";

describe("y ranges in the URL", () => {
  it("reads y.<key>=min,max for each chart", () => {
    const r = readYRanges("?range=24h&y.do=30,50&y.ph=6.8%2C7.2&y.temperature=oops");
    assert.deepEqual([...r.entries()], [
      ["do", { min: 30, max: 50 }],
      ["ph", { min: 6.8, max: 7.2 }],
    ]);
  });

  it("refuses an empty or reversed range", () => {
    assert.equal(parseYRange("50,30"), null);
    assert.equal(parseYRange("5,5"), null);
    assert.equal(parseYRange(""), null);
    assert.deepEqual(parseYRange("-1.5,2e1"), { min: -1.5, max: 20 });
  });
});

describe("times from the API", () => {
  it("keeps microseconds, as the same number the server sends", () => {
    const us = 1_741_089_600_123_456;
    assert.equal(isoToMs("2025-03-04T12:00:00.123456Z"), us / 1000);
    assert.equal(isoToMs("2025-03-04T12:00:00.123Z"), 1_741_089_600_123);
    assert.equal(isoToMs("2025-03-04T12:00:00"), 1_741_089_600_000, "naive means UTC");
    assert.equal(isoToMs(null), null);
  });
});
