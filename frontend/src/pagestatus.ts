// What the page as a whole says about the data: the header pill (live or
// historical, newest row), the window caption, and the browser tab title,
// which warns about a stale or out-of-limit series even in a background tab.

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
  }
}
