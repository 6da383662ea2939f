import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { readingText } from "../src/chartcursor";
import { handleChartKey, moveCursor, PAGE_STEP, type ChartKeyActions } from "../src/chartkeys";

describe("chart keys", () => {
  function press(key: string, mods: Partial<KeyboardEvent> = {}): { calls: string[]; prevented: boolean } {
    const calls: string[] = [];
    const act: ChartKeyActions = {
      pan: (f) => calls.push(`pan ${f}`),
      zoomIn: () => calls.push("zoomIn"),
      zoomOut: () => calls.push("zoomOut"),
      back: () => calls.push("back"),
      resumeLive: () => calls.push("resumeLive"),
      step: (n) => calls.push(`step ${n}`),
      edge: (w) => calls.push(`edge ${w}`),
      clearCursor: () => calls.push("clearCursor"),
    };
    let prevented = false;
    const e = { key, altKey: false, ctrlKey: false, metaKey: false, shiftKey: false, ...mods, preventDefault: () => (prevented = true) };
    handleChartKey(e as KeyboardEvent, act);
    return { calls, prevented };
  }

  it("reads samples with the arrows and pans with shift+arrows", () => {
    assert.deepEqual(press("ArrowLeft"), { calls: ["step -1"], prevented: true });
    assert.deepEqual(press("ArrowRight"), { calls: ["step 1"], prevented: true });
    assert.deepEqual(press("ArrowLeft", { shiftKey: true }), { calls: ["pan -0.25"], prevented: true });
    assert.deepEqual(press("ArrowRight", { shiftKey: true }), { calls: ["pan 0.25"], prevented: true });
    assert.deepEqual(press("PageUp").calls, [`step -${PAGE_STEP}`]);
    assert.deepEqual(press("PageDown").calls, [`step ${PAGE_STEP}`]);
    assert.deepEqual(press("Home").calls, ["edge oldest"]);
    assert.deepEqual(press("End").calls, ["edge newest"]);
    assert.deepEqual(press("Escape").calls, ["clearCursor"]);
  });

  it("maps keys to window actions and consumes them", () => {
    assert.deepEqual(press("=").calls, ["zoomIn"]);
    assert.deepEqual(press("+").calls, ["zoomIn"]);
    assert.deepEqual(press("-").calls, ["zoomOut"]);
    assert.deepEqual(press("Backspace").calls, ["back"]);
    assert.deepEqual(press("L").calls, ["resumeLive"]);
  });

  it("leaves other keys and modified keys to the browser", () => {
    assert.deepEqual(press("a"), { calls: [], prevented: false });
    assert.deepEqual(press("Tab"), { calls: [], prevented: false });
    assert.deepEqual(press("ArrowLeft", { ctrlKey: true }), { calls: [], prevented: false });
    assert.deepEqual(press("Home", { altKey: true }), { calls: [], prevented: false });
  });
});

describe("keyboard cursor moves", () => {
  it("lands on the newest sample in view first, whichever arrow", () => {
    assert.equal(moveCursor(10, 20, null, -1), 19);
    assert.equal(moveCursor(10, 20, null, 1), 19);
  });

  it("steps sample by sample and stops at the edges", () => {
    assert.equal(moveCursor(10, 20, 15, -1), 14);
    assert.equal(moveCursor(10, 20, 15, 1), 16);
    assert.equal(moveCursor(10, 20, 10, -1), 10);
    assert.equal(moveCursor(10, 20, 19, 1), 19);
    assert.equal(moveCursor(10, 20, 12, -PAGE_STEP), 10);
  });

  it("jumps to the edges, and starts again when its sample left the view", () => {
    assert.equal(moveCursor(10, 20, 15, "oldest"), 10);
    assert.equal(moveCursor(10, 20, 15, "newest"), 19);
    assert.equal(moveCursor(10, 20, 3, -1), 19);
  });

  it("has nowhere to go in an empty view", () => {
    assert.equal(moveCursor(5, 5, null, -1), null);
    assert.equal(moveCursor(5, 5, 4, "oldest"), null);
  });
});

describe("keyboard readings", () => {
  it("say name, time, value and unit", () => {
    assert.equal(readingText("Dissolved oxygen", "%", "2026-03-04 12:00:05", 41.432), "Dissolved oxygen, 2026-03-04 12:00:05: 41.43 %");
    assert.equal(readingText("pH", "", "2026-03-04 12:00:05.250", 7.0123), "pH, 2026-03-04 12:00:05.250: 7.012");
    assert.equal(readingText("pH", "", "2026-03-04 12:00:05", null), "pH, 2026-03-04 12:00:05: NULL");
  });
});
