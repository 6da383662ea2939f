import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { statusMessage, StateWatch } from "../src/announcer";

describe("state announcements", () => {
  it("says a change once, and nothing while the state holds", () => {
    const w = new StateWatch();
    assert.equal(w.update("do", "DO", ""), null, "a healthy first sighting is quiet");
    assert.equal(w.update("do", "DO", ""), null);
    assert.equal(w.update("do", "DO", "Stale"), "DO: Stale");
    assert.equal(w.update("do", "DO", "Stale"), null);
    assert.equal(w.update("do", "DO", ""), "DO: back to normal");
  });

  it("says a warning seen first, but not a quiet first state", () => {
    const w = new StateWatch();
    assert.equal(w.update("ph", "pH", "Stale"), "pH: Stale");
    assert.equal(w.update("conn", "Connection", "Connecting…", "Connecting…"), null);
    assert.equal(w.update("conn", "Connection", "Live", "Connecting…"), "Connection: Live");
  });

  it("words a cleared warning", () => {
    assert.equal(statusMessage("pH", "Stale", ""), "pH: back to normal");
    assert.equal(statusMessage("pH", "", ""), null);
  });
});
