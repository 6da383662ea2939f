import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { decimalsFor, fmtValue } from "../src/format";
import { fmtAge, fmtDuration, fmtTicks, fromInputValue, setTimeZoneMode, toInputValue } from "../src/time";

describe("time in UTC mode", () => {
  setTimeZoneMode("utc");
  const t = Date.UTC(2026, 10, 23, 21, 5, 9, 120);

  it("round-trips the datetime-local value", () => {
    assert.equal(toInputValue(t), "2026-11-23T21:05:09");
    assert.equal(fromInputValue("2026-11-23T21:05:09"), t - 120);
    assert.equal(fromInputValue("2026-11-23T21:05"), Date.UTC(2026, 10, 23, 21, 5));
    assert.equal(fromInputValue("2026-11-23T21:05:09.5"), Date.UTC(2026, 10, 23, 21, 5, 9, 500));
    assert.ok(Number.isNaN(fromInputValue("yesterday")));
  });

  it("labels ticks with the date where the day changes", () => {
    const day = Date.UTC(2026, 10, 23);
    assert.deepEqual(fmtTicks([day - 3_600_000, day, day + 3_600_000], 3_600_000), [
      "23:00\n2026-11-22",
      "00:00\n2026-11-23",
      "01:00",
    ]);
    assert.deepEqual(fmtTicks([day + 1000, day + 2000], 1000), ["00:00:01\n2026-11-23", "00:00:02"]);
  });
});

describe("durations and ages", () => {
  it("reads like a person would say it", () => {
    assert.equal(fmtAge(500), "just now");
    assert.equal(fmtAge(12_000), "12 s ago");
    assert.equal(fmtAge(4 * 60_000), "4 min ago");
    assert.equal(fmtAge(3 * 3_600_000), "3 h ago");
    assert.equal(fmtDuration(15 * 60_000), "15 min");
    assert.equal(fmtDuration(3_600_000), "1 h");
    assert.equal(fmtDuration(90 * 60_000), "90 min");
    assert.equal(fmtDuration(7 * 86_400_000), "7 d");
  });
});

describe("values", () => {
  it("keeps process precision", () => {
    assert.equal(fmtValue(7.1534), "7.153");
    assert.equal(fmtValue(36.987), "36.99");
    assert.equal(fmtValue(null), "—");
    assert.equal(decimalsFor(1013.2), 0);
  });
});
