// One series on the page: its buffer, chart panel, tile and statistics, and
// the REST loads that fill them. The dashboard decides when; this does how.

import * as api from "./api";
import { SeriesBuffer, gapThreshold, medianInterval, withGaps, type Value } from "./buffer";
import { SeriesChart, type ChartEvents, type Overlay } from "./chart";
import { StatsView } from "./stats";
import { Tile } from "./tiles";
import type { AppendMessage, BootSeries, SeriesInfo, SeriesState } from "./types";

export interface Range {
  start: number;
  end: number;
}

export class SeriesView {
  readonly key: string;
  readonly buf = new SeriesBuffer();
  readonly chart: SeriesChart;
  readonly tile: Tile;
  readonly panel: HTMLElement;
  private readonly stats: StatsView;
  private readonly badge: HTMLElement;
  info: SeriesInfo | null = null;
  state: SeriesState = "loading";
  error: string | null = null;
  intervalMs: number | null = null;
  /** Width of one M4 bucket when the loaded window was downsampled, else 0. */
  bucketMs = 0;
  downsampled = false;
  /** A load of the current window has completed (successfully or not). */
  loaded = false;
  /** Needs a redraw in the next frame. */
  dirty = false;
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
    panel.setAttribute("aria-label", `${cfg.name} chart. Arrow keys pan, plus and minus zoom, L returns to live.`);
    panel.tabIndex = 0;
    panel.innerHTML = `
      <header class="panel-head">
        <h3 class="panel-title"><span class="swatch" aria-hidden="true"></span><span class="panel-name"></span><span class="panel-unit"></span></h3>
        <span class="panel-badge" hidden></span>
        <div class="stats" data-testid="stats-${cfg.key}" aria-label="${cfg.name}: statistics of the visible window"></div>
      </header>
      <div class="plot"></div>`;
    panel.querySelector(".panel-name")!.textContent = cfg.name;
    panel.querySelector(".panel-unit")!.textContent = cfg.unit;
    this.panel = panel;
    this.stats = new StatsView(panel.querySelector(".stats")!);
    this.badge = panel.querySelector(".panel-badge")!;
    this.chart = new SeriesChart({ ...cfg, color }, panel, events);
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

  /** Takes a fresh /api/series entry; returns true when the series just became available. */
  applyInfo(info: SeriesInfo): boolean {
    const becameOk = this.info !== null && this.state !== "ok" && info.state === "ok";
    this.info = info;
    this.intervalMs = info.interval_ms ?? this.intervalMs;
    // The server owns the stale rule (configured, or derived from the interval): no second copy here.
    this.tile.staleAfterMs = info.stale_after_ms;
    const last = api.isoToMs(info.last);
    if (last !== null) this.tile.offerTime(last);
    this.state = info.state;
    this.error = info.error;
    this.tile.setState(info.state, info.error ?? "");
    return becameOk;
  }

  /** Takes live rows; true when the rows held changed (the chart needs a redraw). */
  applyAppend(m: AppendMessage): boolean {
    const n = m.t.length;
    if (n) {
      this.tile.offer(m.t[n - 1]!, m.v[n - 1] ?? null);
      if (this.state !== "ok") {
        this.state = "ok";
        this.tile.setState("ok");
      }
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
   */
  async load(win: Range, points: number): Promise<void> {
    this.loadCtl?.abort();
    if (this.state === "missing") {
      this.loaded = true;
      this.dirty = true;
      return;
    }
    const ctl = new AbortController();
    this.loadCtl = ctl;
    this.buf.beginReload();
    if (!this.loaded) this.chart.setOverlay({ kind: "loading", text: "Loading history…" });
    this.chart.setBusy(true);
    try {
      const d = await api.seriesData(this.key, win.start, win.end, points, ctl.signal);
      if (ctl.signal.aborted) return;
      this.buf.finishReload(d.t, d.v, d.seq);
      this.downsampled = d.downsampled;
      this.bucketMs = d.downsampled ? (d.end - d.start) / points : 0;
      this.showResolution(d.downsampled, d.count, d.t.length);
      if (!d.downsampled && !this.info?.interval_ms) this.intervalMs = medianInterval(d.t) ?? this.intervalMs;
      if (d.state && d.state !== "loading") {
        this.state = d.state;
        this.tile.setState(d.state, this.error ?? "");
      }
      const n = this.buf.length;
      if (n) this.tile.offer(this.buf.t[n - 1]!, this.buf.v[n - 1] ?? null);
      this.error = null;
    } catch (err) {
      if (api.isAbort(err)) return;
      this.buf.cancelReload();
      this.error = message(err);
      this.state = err instanceof api.ApiError && err.status === 404 ? "missing" : "error";
    } finally {
      if (this.loadCtl === ctl) {
        this.loadCtl = null;
        this.chart.setBusy(false);
      }
    }
    this.loaded = true;
    this.dirty = true;
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

  /** Min/max/mean/last of the raw rows in the window, from the server. */
  async loadStats(win: Range): Promise<void> {
    this.statsCtl?.abort();
    if (this.state === "missing") {
      this.stats.clear();
      return;
    }
    const ctl = new AbortController();
    this.statsCtl = ctl;
    this.stats.pending();
    try {
      this.stats.show(await api.seriesStats(this.key, win.start, win.end, ctl.signal));
    } catch (err) {
      if (!api.isAbort(err)) this.stats.error(`Statistics unavailable: ${message(err)}`);
    }
  }

  /** Trims what is outside the window, breaks gaps and hands the rows to the chart. */
  redraw(win: Range, live: boolean): void {
    this.dirty = false;
    if (!this.buf.reloading) {
      // Keep a margin so a small pan or a late row near the edge still draws.
      const margin = (win.end - win.start) * 0.05;
      this.buf.trim(win.start - margin, live ? Infinity : win.end + margin);
    }
    this.chart.setWindow(win.start, win.end);
    const { t, v } = withGaps(this.buf.t, this.buf.v, gapThreshold(this.intervalMs, this.bucketMs));
    this.chart.setData(t, v);
    this.chart.setOverlay(this.overlay(win));
  }

  private overlay(win: Range): Overlay {
    if (!this.loaded) return { kind: "loading", text: "Loading history…" };
    if (this.state === "missing") return { kind: "missing", text: `Table not found: ${this.info?.table ?? this.key}` };
    if (this.state === "error") return { kind: "error", text: `Cannot load ${this.cfg.name}: ${this.error ?? "error"}` };
    if (this.state === "empty" && !this.buf.length) return { kind: "empty", text: "No data: the table is empty" };
    const [i0, i1] = this.buf.range(win.start, win.end);
    return i1 > i0 ? null : { kind: "empty", text: "No data in this window" };
  }

  /** The value of the sample nearest to t, or undefined when none is close (a gap). */
  valueNear(t: number): Value | undefined {
    const i = this.buf.nearest(t);
    if (i < 0 || Math.abs(this.buf.t[i]! - t) > gapThreshold(this.intervalMs, this.bucketMs) / 2) return undefined;
    return this.buf.v[i] ?? null;
  }
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
