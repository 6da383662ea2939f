// window.__dashboard: a read-only view of the dashboard for the browser tests
// (tests/browser). The page itself never reads it.

import type { ConnectionState, PillState } from "./connection";
import type { SeriesView } from "./series";
import { currentTheme } from "./theme";
import { timeZoneMode } from "./time";
import type { TimeWindow } from "./timewindow";

/** What the view reads, live on every access. */
export interface Inspected {
  ready(): boolean;
  /** The link: "live" once the socket is open and the database up, whatever the data's age. */
  connection(): ConnectionState;
  /** What the header pill says: "live" only while rows arrive, else "historical" (or the link state). */
  header(): PillState;
  readonly win: TimeWindow;
  readonly series: ReadonlyMap<string, SeriesView>;
  readonly order: readonly SeriesView[];
}

export function exposeForTests(d: Inspected): void {
  const { win, order } = d;
  const get = (key: string) => d.series.get(key);
  const view = Object.freeze({
    get ready() {
      return d.ready();
    },
    get live() {
      return win.live;
    },
    get window() {
      return Object.freeze({ start: win.start, end: win.end });
    },
    get loading() {
      return order.some((s) => s.loading);
    },
    get connection() {
      return d.connection();
    },
    get header() {
      return d.header();
    },
    get tz() {
      return timeZoneMode();
    },
    get theme() {
      return currentTheme();
    },
    keys: () => order.map((s) => s.key),
    /** Rows held for the chart (raw rows, or M4 points when downsampled). */
    points: (key: string) => get(key)?.buf.length ?? 0,
    /** The newest row time known for the series. */
    lastT: (key: string) => get(key)?.latestT() ?? null,
    seq: (key: string) => get(key)?.buf.seq ?? null,
    /** The x range chart `key` draws: after a drag-zoom on one chart, all four match `window`. */
    chartWindow: (key: string) => get(key)?.chart.drawnWindow() ?? null,
    downsampled: (key: string) => get(key)?.downsampled ?? false,
    state: (key: string) => get(key)?.state ?? null,
    /** Values of the rows held at exactly time t (duplicate timestamps give several). */
    valuesAt: (key: string, t: number) => {
      const b = get(key)?.buf;
      if (!b) return [];
      const [i0, i1] = b.range(t, t);
      return b.v.slice(i0, i1);
    },
    /** The y range chart `key` drew last, its tick labels, the samples it marked as clipped at an edge and its limit labels. */
    yAxis: (key: string) => {
      const c = get(key)?.chart;
      if (!c) return null;
      const { y, labels, clipped, limits } = c.shown;
      return Object.freeze({ ...y, labels: [...labels], clipped, limits: [...limits], manual: c.manualY !== null });
    },
    /** The outages held for the series ([t0, t1] pairs) and how it joins samples. */
    gaps: (key: string) => get(key)?.buf.gaps.map((g) => [g[0], g[1]]) ?? [],
    interpolation: (key: string) => get(key)?.interpolation ?? null,
    /** What the tooltip says for the series at time t. */
    readingAt: (key: string, t: number) => get(key)?.readingAt(t) ?? null,
    /** Rows held inside the visible window (compare with the stats route's raw count). */
    rowsInWindow: (key: string) => {
      const b = get(key)?.buf;
      if (!b) return 0;
      const [i0, i1] = b.range(win.start, win.end);
      return i1 - i0;
    },
  });
  Object.defineProperty(window, "__dashboard", { value: view, configurable: false, writable: false });
}
