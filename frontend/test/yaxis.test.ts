import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { autoRange, clippedIndices, niceTicks, robustRange, stepDecimals, tickLabel } from "../src/yaxis";

describe("y ticks", () => {
  it("takes decimals from the step, never more", () => {
    assert.equal(stepDecimals(1), 0);
    assert.equal(stepDecimals(0.5), 1);
    assert.equal(stepDecimals(0.25), 2);
    assert.equal(stepDecimals(0.02), 2);
    assert.equal(stepDecimals(20), 0);
    const t = niceTicks(36.93, 37.08, 200);
    assert.deepEqual(
      t.ticks.map((x) => tickLabel(x, t.decimals)),
      ["36.95", "37.00", "37.05"],
    );
    assert.equal(t.decimals, 2);
  });

  it("gives at least three labels on a short plot (the old axis printed one: 37.00000)", () => {
    // A 24 h window, or a plot squeezed by the banner: 70 px, a narrow range.
    for (const [lo, hi, px] of [
      [36.8, 37.3, 70],
      [36.99, 37.01, 60],
      [0, 100, 56],
      [1013.2, 1013.9, 64],
    ] as const) {
      const t = niceTicks(lo, hi, px);
      assert.ok(t.ticks.length >= 3, `${lo}..${hi} on ${px} px: ${t.ticks}`);
      assert.ok((t.ticks.length - 1) * 16 <= px, `labels overlap: ${t.ticks} on ${px} px`);
      assert.ok(t.decimals <= 3, `${t.decimals} decimals for ${t.ticks}`);
      const labels = t.ticks.map((x) => tickLabel(x, t.decimals));
      assert.equal(new Set(labels).size, labels.length, `repeated labels ${labels}`);
    }
  });

  it("keeps to the preferred spacing on a tall plot", () => {
    const t = niceTicks(0, 100, 300);
    assert.deepEqual(t.ticks, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert.equal(t.decimals, 0);
  });

  it("never prints -0", () => {
    assert.equal(tickLabel(-0.0000001, 2), "0.00");
    assert.equal(tickLabel(-0.5, 1), "-0.5");
  });
});

describe("robust automatic range", () => {
  // One sample a second for an hour, DO between 38 and 42, one glitch to 0.
  const n = 3600;
  const x = Array.from({ length: n }, (_, i) => i * 1000);
  const y: (number | null)[] = x.map((_, i) => 40 + 2 * Math.sin(i / 300));

  it("is not wrecked by one stray sample", () => {
    const glitch = [...y];
    glitch[1800] = 0;
    const r = robustRange(x, glitch, 0, n * 1000)!;
    assert.ok(r.min > 37.9 && r.max < 42.1, `${r.min}..${r.max}`);
    const shown = autoRange(r, null, null);
    // The glitch is drawn clipped at the bottom edge (and marked there).
    assert.deepEqual(clippedIndices(x, glitch, shown, 0, n * 1000), [1800]);
  });

  it("keeps a real excursion that ramps, however short", () => {
    const dip = [...y];
    for (let i = 0; i < 30; i++) dip[1000 + i] = 40 - i; // down to 11 % over 30 s
    const r = robustRange(x, dip, 0, n * 1000)!;
    assert.ok(r.min <= 11, `${r.min}`);
  });

  it("weighs each sample by how long its value is in force (exception logging)", () => {
    // Few samples: 37 held for 50 minutes, then 39 held for 10.
    const r = robustRange([0, 3_000_000, 3_600_000], [37, 39, 39], 0, 3_600_000)!;
    assert.deepEqual(r, { min: 37, max: 39 });
  });

  it("keeps the current value in a live window", () => {
    const last = [...y];
    last[n - 1] = 0;
    assert.ok(robustRange(x, last, 0, n * 1000)!.min > 37);
    assert.equal(robustRange(x, last, 0, n * 1000, true)!.min, 0);
  });

  it("counts the value in force at the left edge", () => {
    // A sample before the window whose value holds across it.
    const r = robustRange([-5000, 1000, 2000], [10, 10.5, 10.4], 0, 3000)!;
    assert.equal(r.min, 10);
  });

  it("includes the limits, with a margin", () => {
    const r = autoRange({ min: 36.9, max: 37.1 }, 36.5, 37.5);
    assert.ok(r.min < 36.5 && r.max > 37.5);
    const far = autoRange({ min: 50, max: 60 }, 20, null);
    assert.ok(far.min < 20, "a limit far from the data is still on the chart");
  });

  it("has a sensible range for a flat line and for no data", () => {
    const flat = autoRange({ min: 37, max: 37 }, null, null);
    assert.ok(flat.min < 37 && flat.max > 37);
    assert.deepEqual(autoRange(null, null, null), { min: 0, max: 1 });
    assert.equal(robustRange([], [], 0, 1), null);
  });
});
