import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import { contrast, hueDistance, parseColor } from "../src/color";

// The theme colours as the CSS declares them (tests run from frontend/, see run.mjs).
const css = readFileSync("src/style.css", "utf8");

function block(selector: string): Record<string, string> {
  const start = css.indexOf(`${selector} {`);
  assert.ok(start >= 0, `no ${selector} block`);
  const body = css.slice(start, css.indexOf("}", start));
  return Object.fromEntries([...body.matchAll(/(--[\w-]+):\s*([^;]+);/g)].map((m) => [m[1]!, m[2]!.trim()]));
}

describe("colours read in both themes", () => {
  const light = block(":root");
  const dark = { ...light, ...block(':root[data-theme="dark"]') };
  const palette = Object.keys(light).filter((k) => k.startsWith("--series-"));

  it("has a palette and an alarm colour", () => {
    assert.ok(palette.length >= 4);
    assert.ok(parseColor(light["--alarm"]!) && parseColor(dark["--alarm"]!));
  });

  for (const [name, theme] of [
    ["light", light],
    ["dark", dark],
  ] as const) {
    it(`${name}: the alarm colour and every series stand out from the background (3:1)`, () => {
      const bg = theme["--surface"]!;
      assert.ok(contrast(theme["--alarm"]!, bg) >= 4.5, `alarm ${theme["--alarm"]} on ${bg}`);
      for (const k of palette) assert.ok(contrast(theme[k]!, bg) >= 3, `${k} ${theme[k]} on ${bg}`);
    });

    it(`${name}: no series colour is near the alarm red or the stale orange`, () => {
      for (const k of palette) {
        assert.ok(hueDistance(theme[k]!, theme["--alarm"]!) >= 60, `${k} ${theme[k]} is close to the alarm colour`);
        assert.ok(hueDistance(theme[k]!, theme["--warn"]!) >= 40, `${k} ${theme[k]} is close to the stale colour`);
      }
    });
  }
});
