import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { DEFAULT_SPAN, TimeWindow } from "../src/timewindow";
import { formatSpan, parseSpan } from "../src/url";

const H = 3_600_000;

describe("TimeWindow", () => {
  it("defaults to the hour ending at the newest row, even an old one", () => {
    const w = new TimeWindow();
    const newest = Date.UTC(2025, 0, 1); // last year's data
    w.resolve(newest, null, Date.UTC(2026, 5, 1));
    assert.equal(w.live, true);
    assert.deepEqual([w.start, w.end], [newest - DEFAULT_SPAN, newest]);
  });

  it("slides a live window with the newest row and reports the move", () => {
    const w = new TimeWindow({ kind: "live", span: 15 * 60_000 });
    w.resolve(10 * H, null);
    assert.equal(w.resolve(10 * H, null), false);
    assert.equal(w.resolve(10 * H + 2000, null), true);
    assert.equal(w.end, 10 * H + 2000);
    assert.equal(w.span, 15 * 60_000);
  });

  it("keeps a fixed window whatever the data does", () => {
    const w = new TimeWindow({ kind: "fixed", start: 1000, end: 5000 });
    w.resolve(99 * H, 0);
    assert.deepEqual([w.start, w.end], [1000, 5000]);
    assert.equal(w.live, false);
  });

  it("spans all data for 'all'", () => {
    const w = new TimeWindow({ kind: "live", span: "all" });
    w.resolve(30 * H, 6 * H);
    assert.deepEqual([w.start, w.end], [6 * H, 30 * H]);
  });

  it("goes back through user changes and restores live", () => {
    const w = new TimeWindow();
    w.resolve(10 * H, null);
    w.set({ kind: "fixed", start: 33_120_000, end: 34_200_000 }); // a drag-zoom, 9.2 h to 9.5 h
    w.resolve(10 * H, null);
    w.set(w.zoomedIn());
    w.resolve(10 * H, null);
    assert.equal(w.span, 540_000);
    assert.ok(w.back());
    w.resolve(10 * H, null);
    assert.deepEqual([w.start, w.end], [33_120_000, 34_200_000]);
    assert.ok(w.back());
    assert.equal(w.live, true);
    assert.equal(w.canGoBack, false);
    assert.equal(w.back(), false);
  });

  it("pauses on pan and returns to the last live span", () => {
    const w = new TimeWindow({ kind: "live", span: 6 * H });
    w.resolve(20 * H, null);
    w.set(w.panned(-0.5));
    w.resolve(21 * H, null);
    assert.equal(w.live, false);
    assert.deepEqual([w.start, w.end], [11 * H, 17 * H]);
    w.set(w.toggledLive());
    w.resolve(21 * H, null);
    assert.deepEqual([w.start, w.end], [15 * H, 21 * H]);
  });

  it("zooms a live window out by doubling its span, a fixed one around its centre", () => {
    const live = new TimeWindow({ kind: "live", span: H });
    assert.deepEqual(live.zoomedOut(), { kind: "live", span: 2 * H });
    const fixed = new TimeWindow({ kind: "fixed", start: 4 * H, end: 6 * H });
    fixed.resolve(null, null);
    assert.deepEqual(fixed.zoomedOut(), { kind: "fixed", start: 3 * H, end: 7 * H });
  });

  it("widens a window narrower than a second", () => {
    const w = new TimeWindow();
    w.set({ kind: "fixed", start: 5000, end: 5010 });
    w.resolve(null, null);
    assert.equal(w.span, 1000);
  });
});

describe("URL spans", () => {
  it("round-trips presets", () => {
    for (const s of ["15m", "1h", "6h", "24h", "7d", "all"]) assert.equal(formatSpan(parseSpan(s)!), s);
  });

  it("rejects nonsense", () => {
    assert.equal(parseSpan("abc"), null);
    assert.equal(parseSpan("0s"), null);
    assert.equal(parseSpan(null), null);
  });
});
