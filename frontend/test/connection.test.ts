import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { connectionState } from "../src/connection";

describe("connection pill state", () => {
  it("says connecting until the socket is open and the database state is known", () => {
    assert.equal(connectionState("connecting", undefined), "connecting");
    assert.equal(connectionState("connecting", "up"), "connecting");
    // Before the server's first poll: not "Database unavailable", not "Live" either.
    assert.equal(connectionState("open", "unknown"), "connecting");
  });

  it("follows the database once the socket is open", () => {
    assert.equal(connectionState("open", "up"), "live");
    assert.equal(connectionState("open", "down"), "db-down");
  });

  it("puts a lost socket first", () => {
    for (const db of [undefined, "unknown", "up", "down"] as const) {
      assert.equal(connectionState("reconnecting", db), "reconnecting");
    }
  });
});
