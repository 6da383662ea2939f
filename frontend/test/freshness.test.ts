import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { newestText, pillState } from "../src/connection";
import { dataState, pageTitle, warnings, type SeriesNow } from "../src/freshness";
import { setTimeZoneMode } from "../src/time";

const NOW = Date.UTC(2026, 2, 4, 12, 0, 0);
const MIN = 60_000;

function series(name: string, ageMs: number | null, o: Partial<SeriesNow> = {}): SeriesNow {
  return {
    name,
    state: "ok",
    latestT: ageMs === null ? null : NOW - ageMs,
    latestV: 37,
    staleAfterMs: 5 * MIN,
    low: null,
    high: null,
    ...o,
  };
}

describe("live or historical", () => {
  setTimeZoneMode("utc");

  it("is live while at least one series' newest row is younger than its threshold", () => {
    const d = dataState([series("Temperature", 20 * MIN), series("pH", 2 * MIN)], NOW);
    assert.deepEqual(d, { kind: "live", newest: NOW - 2 * MIN });
    assert.equal(pillState("live", d), "live");
  });

  it("is historical for last year's run, and says when its newest row is", () => {
    const year = 365 * 24 * 60 * MIN;
    const d = dataState([series("Temperature", year), series("pH", year + MIN)], NOW);
    assert.equal(d.kind, "historical");
    assert.equal(pillState("live", d), "historical");
    assert.equal(newestText(d, NOW), "newest row 2025-03-04 12:00 (365 d ago)");
  });

  it("waits for the thresholds before saying either", () => {
    assert.equal(dataState([series("pH", MIN, { staleAfterMs: null })], NOW).kind, "unknown");
    assert.equal(dataState([series("pH", null)], NOW).kind, "unknown");
    assert.equal(pillState("live", { kind: "unknown", newest: null }), "waiting");
  });

  it("puts the link first when it is not up", () => {
    const d = dataState([series("pH", MIN)], NOW);
    assert.equal(pillState("reconnecting", d), "reconnecting");
    assert.equal(pillState("db-down", d), "db-down");
    assert.equal(pillState("connecting", d), "connecting");
  });

  it("shows the time of the newest data row, not of the last message", () => {
    assert.equal(newestText({ kind: "live", newest: NOW - 3000 }, NOW), "newest row 11:59:57");
    assert.equal(newestText({ kind: "unknown", newest: null }, NOW), "");
  });
});

describe("the tab title warns in the background", () => {
  it("names a stale series", () => {
    const w = warnings([series("Temperature", 20 * MIN), series("pH", MIN)], NOW);
    assert.deepEqual(w, ["Temperature stale"]);
    assert.equal(pageTitle(w), "⚠ Temperature stale · Bioreactor");
  });

  it("names an out-of-limit value first", () => {
    const w = warnings(
      [series("Temperature", MIN, { latestV: 38.25, high: 37.5 }), series("Dissolved oxygen", 20 * MIN, { latestV: 10, low: 20 })],
      NOW,
    );
    assert.deepEqual(w, ["Temperature above high limit (38.25)", "Dissolved oxygen below low limit (10.00)", "Dissolved oxygen stale"]);
  });

  it("says it once when every series is stale", () => {
    const w = warnings([series("Temperature", 80 * MIN), series("pH", 81 * MIN)], NOW);
    assert.deepEqual(w, ["No new data for 80 min"]);
  });

  it("names a table that is missing, and is plain when all is well", () => {
    assert.deepEqual(warnings([series("Pressure", null, { state: "missing" })], NOW), ["Pressure table not found"]);
    assert.equal(pageTitle(warnings([series("pH", MIN)], NOW)), "Bioreactor · Process dashboard");
  });
});
