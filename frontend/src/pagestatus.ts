// What the page as a whole says about the data: the header pill (live or
// historical, newest row), the window caption, and the browser tab title,
// which warns about a stale or out-of-limit series even in a background tab.
// Changes of a series' warning or of the connection are announced once, through
// the page's one live region.

import { announce, StateWatch } from "./announcer";
import type { ConnectionStatus } from "./connection";
import type { Controls } from "./controls";
import { dataState, pageTitle, warnings, type DataState, type SeriesNow } from "./freshness";
import type { SeriesView } from "./series";

export function seriesNow(s: SeriesView): SeriesNow {
  return {
    name: s.cfg.name,
    state: s.state,
    latestT: s.tile.latestT,
    latestV: s.tile.latestV,
    staleAfterMs: s.tile.staleAfterMs,
    low: s.cfg.low,
    high: s.cfg.high,
  };
}

export class PageStatus {
  data: DataState = { kind: "unknown", newest: null };
  title = document.title;
  private readonly watch = new StateWatch();

  constructor(
    private readonly connection: ConnectionStatus,
    private readonly controls: Controls,
  ) {}

  update(series: readonly SeriesView[], now = Date.now()): void {
    const all = series.map(seriesNow);
    this.data = dataState(all, now);
    this.connection.setData(this.data);
    this.controls.setDataState(this.data);
    const title = pageTitle(warnings(all, now));
    if (title !== this.title) document.title = this.title = title;
    this.announceChanges(series);
  }

  /** Runs on every row and every second; speaks only when a state changed. */
  private announceChanges(series: readonly SeriesView[]): void {
    const pill = document.getElementById("connection")?.getAttribute("aria-label") ?? "";
    const link = pill.replace(/^Connection: /, "");
    const said = [this.watch.update("connection", "Connection", link, "Connecting…")];
    for (const s of series) said.push(this.watch.update(`series:${s.key}`, s.cfg.name, s.tile.flagText));
    const text = said.filter((m): m is string => m !== null).join(". ");
    if (text) announce(text);
  }
}
