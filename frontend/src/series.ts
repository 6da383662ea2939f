// One series on the page: its buffer, chart panel, tile, statistics and y
// range control, and the REST loads that fill them. The dashboard decides
// when; this does how.

import * as api from "./api";
import { SeriesBuffer } from "./buffer";
import { SeriesChart, type ChartEvents, type Overlay } from "./chart";
import { CHART_KEY_HELP } from "./chartkeys";
import { h } from "./dom";
import { addRows, fromServer, type LiveStats } from "./livestats";
import { drawnData, readingAt, type Reading } from "./segments";
import { StatsView } from "./stats";
import { Tile } from "./tiles";
import type { AppendMessage, BootSeries, Interpolation, SeriesInfo, SeriesState } from "./types";
import { writeYRange, type YRange } from "./url";
import { YRangeControl } from "./yrange";

export interface Range {
  start: number;
  end: number;
}

/** How a load ended: the dashboard retries an unreachable server and says so once, for all charts. */
export type LoadResult = "ok" | "unreachable" | "failed" | "aborted";

export class SeriesView {
  readonly key: string;
  readonly buf = new SeriesBuffer();
  readonly chart: SeriesChart;
  readonly tile: Tile;
  readonly panel: HTMLElement;
  private readonly stats: StatsView;
  private readonly badge: HTMLElement;
  private readonly yControl: YRangeControl;
  info: SeriesInfo | null = null;
  state: SeriesState = "loading";
  error: string | null = null;
  /** The last load found no server: the chart keeps drawing what is held. */
  unreachable = false;
  interpolation: Interpolation = "step";
  downsampled = false;
  /** A load of the current window has completed (successfully or not). */
  loaded = false;
  /** Needs a redraw in the next frame. */
  dirty = false;
  /** The window statistics shown: the server's, plus live rows since. */
  private liveStats: LiveStats | null = null;
  private loadCtl: AbortController | null = null;
  private statsCtl: AbortController | null = null;

  constructor(
    readonly cfg: BootSeries,
    readonly color: string,
    events: ChartEvents,
  ) {
    this.key = cfg.key;
    this.tile = new Tile({ ...cfg, color });
    const panel = document.createElement("section");
    panel.className = "panel";
    panel.dataset["testid"] = `chart-${cfg.key}`;
    panel.style.setProperty("--series-color", color);
    panel.setAttribute("aria-label", `${cfg.name} chart. ${CHART_KEY_HELP}`);
    panel.tabIndex = 0;
    // Built from nodes: the name and unit are configuration text, never markup.
    const statsEl = h("div", {
      class: "stats",
      role: "group",
      "data-testid": `stats-${cfg.key}`,
      "aria-label": `${cfg.name}: statistics of the visible window`,
    });
    this.badge = h("span", { class: "panel-badge" });
    this.badge.hidden = true;
    const title = h(
      "h3",
      { class: "panel-title" },
      h("span", { class: "swatch", "aria-hidden": "true" }),
      h("span", { class: "panel-name" }, cfg.name),
      h("span", { class: "panel-unit" }, cfg.unit),
    );
    panel.append(h("header", { class: "panel-head" }, title, this.badge, statsEl), h("div", { class: "plot" }));
    this.panel = panel;
    this.stats = new StatsView(statsEl);
    this.chart = new SeriesChart({ ...cfg, color }, panel, events);
    this.yControl = new YRangeControl(cfg.key, cfg.name, {
      set: (r) => this.setYRange(r),
      current: () => this.chart.currentY(),
    });
    this.badge.after(this.yControl.el);
    this.tile.el.addEventListener("click", () => panel.scrollIntoView({ behavior: "smooth", block: "nearest" }));
  }

  get loading(): boolean {
    return this.loadCtl !== null;
  }

  /** The newest row time known (from the tile, the buffer or /api/series). */
  latestT(): number | null {
    const t = Math.max(this.tile.latestT ?? -Infinity, this.buf.lastT ?? -Infinity);
    return Number.isFinite(t) ? t : null;
  }

  /** What to subscribe with: the newest row held when live rows continue the buffer, else the newest known. */
  since(): number {
    return (this.buf.following ? this.buf.newestHeld() : null) ?? this.latestT() ?? 0;
  }

  /** A fixed y range (kept in the URL), or null for the automatic one. */
  setYRange(r: YRange | null, writeUrl = true): void {
    this.chart.setManualY(r);
    this.yControl.show(r);
    if (writeUrl) writeYRange(this.key, r);
  }

  /** Takes a fresh /api/series entry; returns true when the series just became available. */
  applyInfo(info: SeriesInfo): boolean {
    const becameOk = this.info !== null && this.state !== "ok" && info.state === "ok";
    this.info = info;
    this.interpolation = info.interpolation === "linear" ? "linear" : "step";
    if (Number.isFinite(info.gap_ms)) this.buf.gapMs = info.gap_ms;
    // The server owns the stale rule (configured, or derived from the sampling): no second copy here.
    this.tile.staleAfterMs = info.stale_after_ms;
    const last = api.isoToMs(info.last);
    if (last !== null) this.tile.offerTime(last);
    this.state = info.state;
    this.error = info.error;
    this.tile.setState(info.state, info.error ?? "");
    this.dirty = true;
    return becameOk;
  }

  /** Takes live rows; true when the rows held changed (the chart needs a redraw). */
  applyAppend(m: AppendMessage, statsEnd: number): boolean {
    const n = m.t.length;
    if (n) {
      this.tile.offer(m.t[n - 1]!, m.v[n - 1] ?? null);
      if (this.state !== "ok") {
        this.state = "ok";
        this.tile.setState("ok");
      }
    }
    // Statistics count rows by time past what they hold, so a row seen twice counts once.
    if (this.liveStats) {
      const next = addRows(this.liveStats, m.t, m.v, statsEnd);
      if (next !== this.liveStats) this.stats.show((this.liveStats = next).stats);
    }
    if (this.buf.append({ t: m.t, v: m.v, seq: m.seq, replay: m.replay }) !== "applied") return false;
    this.dirty = true;
    return true;
  }

  /** The tile needs the newest value even when the window does not hold it. */
  async fillTile(): Promise<void> {
    const last = api.isoToMs(this.info?.last ?? null);
    if (last === null || (this.tile.latestT === last && this.tile.latestV !== undefined)) return;
    try {
      const st = await api.seriesStats(this.key, last, last);
      if (st.last_t !== null) this.tile.offer(st.last_t, st.last);
    } catch {
      // The tile keeps showing the time only.
    }
  }

  /**
   * Reloads [start, end] through REST. WebSocket appends arriving meanwhile
   * are queued in the buffer and applied after the snapshot by seq.
   * `follow`: the window reaches the newest row, so live rows continue it.
   */
  async load(win: Range, points: number, follow: boolean): Promise<LoadResult> {
    this.loadCtl?.abort();
    if (this.state === "missing") {
      this.loaded = true;
      this.dirty = true;
      return "ok";
    }
    const ctl = new AbortController();
    this.loadCtl = ctl;
    this.buf.beginReload();
    if (!this.loaded) this.chart.setOverlay({ kind: "loading", text: "Loading history…" });
    this.chart.setBusy(true);
    let result: LoadResult = "ok";
    try {
      const d = await api.seriesData(this.key, win.start, win.end, points, ctl.signal);
      if (ctl.signal.aborted) return "aborted";
      if (Number.isFinite(d.gap_ms)) this.buf.gapMs = d.gap_ms;
      this.buf.finishReload({
        t: d.t,
        v: d.v,
        seq: d.seq,
        gaps: d.gaps ?? [],
        before: d.before ?? null,
        start: d.start ?? win.start,
        end: follow ? Infinity : (d.end ?? win.end),
      });
      this.downsampled = d.downsampled;
      this.showResolution(d.downsampled, d.count, d.t.length);
      if (d.state && d.state !== "loading") {
        this.state = d.state;
        this.tile.setState(d.state, this.error ?? "");
      }
      const n = this.buf.length;
      if (n && follow) this.tile.offer(this.buf.t[n - 1]!, this.buf.v[n - 1] ?? null);
      this.error = null;
      this.unreachable = false;
    } catch (err) {
      if (api.isAbort(err)) return "aborted";
      this.buf.cancelReload();
      if (api.isUnreachable(err)) {
        // Keep drawing what is held; the dashboard says so once and retries.
        this.unreachable = true;
        result = "unreachable";
      } else {
        this.error = api.errorText(err);
        this.state = err instanceof api.ApiError && err.status === 404 ? "missing" : "error";
        result = "failed";
      }
    } finally {
      if (this.loadCtl === ctl) {
        this.loadCtl = null;
        this.chart.setBusy(false);
      }
    }
    this.loaded = true;
    this.dirty = true;
    return result;
  }

  /** Says when the chart draws M4 points rather than every row, so nobody mistakes it for raw data. */
  private showResolution(downsampled: boolean, rows: number, points: number): void {
    this.badge.hidden = !downsampled;
    if (!downsampled) return;
    this.badge.textContent = `M4 · ${points.toLocaleString("en-US")} of ${rows.toLocaleString("en-US")} rows`;
    this.badge.title =
      "Downsampled: each pixel column keeps its first, last, minimum and maximum sample, so spikes stay visible. " +
      "Zoom in to see every row.";
  }

  /** Count/min/max/mean/last of the raw rows in the window, from the server; live rows are added as they come. */
  async loadStats(win: Range, statsEnd: number, quiet = false): Promise<void> {
    this.statsCtl?.abort();
    if (this.state === "missing") {
      this.stats.clear();
      return;
    }
    const ctl = new AbortController();
    this.statsCtl = ctl;
    if (!quiet) this.stats.pending();
    try {
      const st = await api.seriesStats(this.key, win.start, win.end, ctl.signal);
      // Rows that arrived while the figures were computed are counted on top.
      this.liveStats = addRows(fromServer(st), this.buf.t, this.buf.v, statsEnd);
      this.stats.show(this.liveStats.stats);
    } catch (err) {
      if (api.isAbort(err)) return;
      this.liveStats = null;
      this.stats.error(`Statistics unavailable: ${api.errorText(err)}.`);
    }
  }

  /** Hands the rows to the chart, broken at outages, with the value in force carried to the right. */
  redraw(win: Range, live: boolean, newest: number | null): void {
    this.dirty = false;
    this.chart.setWindow(win.start, win.end);
    // Nothing to hand over before the first load: redrawing the empty chart would only delay it.
    if (!this.loaded) return this.chart.setOverlay(this.overlay(win));
    const b = this.buf;
    // A live window slides: rows a whole span behind it are not needed any more.
    if (live && !b.reloading) b.trimBefore(win.start - (win.end - win.start));
    const last = b.lastT ?? b.before?.t ?? null;
    let holdUntil: number | null = null;
    if (this.interpolation === "step" && last !== null && b.gapMs !== null) {
      // Held until the next sample: at most the outage threshold, and not past the newest row anywhere.
      holdUntil = Math.min(last + b.gapMs, b.to, newest ?? last);
    }
    this.chart.setData(drawnData(b, holdUntil), { gaps: b.gaps, interpolation: this.interpolation, live });
    this.chart.setOverlay(this.overlay(win));
  }

  private overlay(win: Range): Overlay {
    if (!this.loaded) return { kind: "loading", text: "Loading history…" };
    if (this.state === "missing") return { kind: "missing", text: `Table not found: ${this.info?.table ?? this.key}` };
    const [i0, i1] = this.buf.range(win.start, win.end);
    const shown = i1 > i0 || (this.buf.before !== null && this.buf.covers(win.start, win.start));
    if (this.state === "error" && !shown) return { kind: "error", text: `Cannot load ${this.cfg.name}: ${this.error ?? "error"}.` };
    if (this.state === "empty" && !this.buf.length) return { kind: "empty", text: "No data: the table is empty" };
    if (shown) return null;
    if (this.unreachable && !this.buf.covers(win.start, win.end)) {
      return { kind: "error", text: "Not loaded: the server cannot be reached. Retrying…" };
    }
    return { kind: "empty", text: "No data in this window" };
  }

  /** The value in force at time t (or the outage t is in), for the tooltip. */
  readingAt(t: number): Reading {
    const b = this.buf;
    return readingAt(b, t, {
      exactMs: this.chart.exactMs(),
      gapMs: b.gapMs,
      following: b.following,
      from: b.from,
      to: b.to,
    });
  }

  /** Rows held inside [start, end]. */
  rowsIn(win: Range): number {
    const [i0, i1] = this.buf.range(win.start, win.end);
    return i1 - i0;
  }
}
