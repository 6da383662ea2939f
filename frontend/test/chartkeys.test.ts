import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { handleChartKey, type ChartKeyActions } from "../src/chartkeys";

describe("chart keys", () => {
  function press(key: string, mods: Partial<KeyboardEvent> = {}): { calls: string[]; prevented: boolean } {
    const calls: string[] = [];
    const act: ChartKeyActions = {
      pan: (f) => calls.push(`pan ${f}`),
      zoomIn: () => calls.push("zoomIn"),
      zoomOut: () => calls.push("zoomOut"),
      back: () => calls.push("back"),
      resumeLive: () => calls.push("resumeLive"),
    };
    let prevented = false;
    const e = { key, altKey: false, ctrlKey: false, metaKey: false, ...mods, preventDefault: () => (prevented = true) };
    handleChartKey(e as KeyboardEvent, act);
    return { calls, prevented };
  }

  it("maps keys to window actions and consumes them", () => {
    assert.deepEqual(press("ArrowLeft"), { calls: ["pan -0.25"], prevented: true });
    assert.deepEqual(press("ArrowRight"), { calls: ["pan 0.25"], prevented: true });
    assert.deepEqual(press("=").calls, ["zoomIn"]);
    assert.deepEqual(press("+").calls, ["zoomIn"]);
    assert.deepEqual(press("-").calls, ["zoomOut"]);
    assert.deepEqual(press("Backspace").calls, ["back"]);
    assert.deepEqual(press("L").calls, ["resumeLive"]);
  });

  it("leaves other keys and modified keys to the browser", () => {
    assert.deepEqual(press("a"), { calls: [], prevented: false });
    assert.deepEqual(press("ArrowLeft", { ctrlKey: true }), { calls: [], prevented: false });
  });
});
