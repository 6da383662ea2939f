// The dashboard's state and data flow: the window (live or fixed), REST
// loads of that window, WebSocket appends merged in, and the views
// (charts, tiles, stats, controls) kept in step.

import * as api from "./api";
import { SeriesBuffer, gapThreshold, medianInterval, withGaps } from "./buffer";
import { SeriesChart, type ChartEvents } from "./chart";
import { Controls, type ConnectionState } from "./controls";
import { LiveConnection, type LinkState } from "./live";
import { StatsView } from "./stats";
import { cssVar, currentTheme, initTheme, toggleTheme } from "./theme";
import { Tile } from "./tiles";
import { Tooltip, type TooltipRow } from "./tooltip";
import { fmtTime, setTimeZoneMode, timeZoneMode } from "./time";
import type { AppendMessage, Boot, BootSeries, DbStatus, SeriesInfo, SeriesState } from "./types";
import { TimeWindow } from "./timewindow";
import { readUrl, writeUrl, type WindowSpec } from "./url";

const LOAD_DEBOUNCE_MS = 120;
const STATS_DEBOUNCE_MS = 400;
const STATS_LIVE_EVERY_MS = 10_000;
const SERIES_REFRESH_MS = 30_000;

interface Series {
  cfg: BootSeries;
  index: number;
  info: SeriesInfo | null;
  buf: SeriesBuffer;
  chart: SeriesChart;
  tile: Tile;
  stats: StatsView;
  intervalMs: number | null;
  /** Width of one M4 bucket when the loaded window was downsampled, else 0. */
  bucketMs: number;
  downsampled: boolean;
  loadCtl: AbortController | null;
  statsCtl: AbortController | null;
  /** True once a load for the current window has completed. */
  loaded: boolean;
  state: SeriesState;
  error: string | null;
  dirty: boolean;
}

export class Dashboard {
  private readonly series = new Map<string, Series>();
  private readonly order: Series[] = [];
  private readonly controls: Controls;
  private readonly live: LiveConnection;
  private readonly win: TimeWindow;
  private ready = false;
  private frame = 0;
  private windowDirty = false;
  private loadTimer: number | undefined;
  private statsTimer: number | undefined;
  private lastStatsAt = 0;
  private link: LinkState = "connecting";
  private db: DbStatus | null = null;
  private lastUpdate: number | null = null;
  private readonly tooltip = new Tooltip();
  private hoverT: number | null = null;
  private hoverChart: SeriesChart | null = null;
  private hoverPos: [number, number] = [0, 0];
  private liveStarted = false;
  private infoRetry: number | undefined;

  constructor(private readonly boot: Boot) {
    const { window: urlWindow, tz } = readUrl();
    setTimeZoneMode(tz ?? "local");
    this.win = new TimeWindow(urlWindow);
    initTheme(() => this.onThemeChange());

    this.controls = new Controls(
      {
        preset: (span) => this.setSpec({ kind: "live", span }),
        applyRange: (a, b) => this.setSpec({ kind: "fixed", start: a, end: b }),
        back: () => this.back(),
        zoomOut: () => this.zoomOut(),
        pan: (dir) => this.panBy(dir * 0.5),
        toggleLive: () => this.toggleLive(),
        refresh: () => this.refresh(),
        download: (keys) => this.download(keys),
        toggleTz: () => this.toggleTz(),
        toggleTheme: () => {
          toggleTheme();
          this.onThemeChange();
        },
      },
      boot.series,
    );
    this.controls.setTz(timeZoneMode());
    this.controls.setTheme(currentTheme());
    this.controls.setCanGoBack(false);


    this.buildSeries();
    this.live = new LiveConnection(boot.ws_path || "/ws", {
      subscription: () => this.subscription(),
      hello: (seq, db) => this.onHello(seq, db),
      append: (m) => this.onAppend(m),
      status: (db) => this.onStatus(db),
      refused: (error) => this.controls.showBanner("error", `Live updates were refused by the server (${error}); retrying.`, 8000),
      resync: (keys) => this.load(keys.filter((k) => this.series.has(k))),
      link: (state) => {
        this.link = state;
        this.renderConnection();
      },
    });
    this.exposeForTests();
  }

  // ---- set-up -------------------------------------------------------------

  private buildSeries(): void {
    const tiles = document.getElementById("tiles")!;
    const charts = document.getElementById("charts")!;
    const events: ChartEvents = {
      zoom: (min, max) => this.zoomTo(min, max),
      pan: (min, max, commit) => this.panTo(min, max, commit),
      zoomOut: () => this.zoomOut(),
      hover: (chart, t, left, top) => this.onHover(chart, t, left, top),
    };
    this.boot.series.forEach((cfg, index) => {
      const color = seriesColor(index);
      const tile = new Tile({ ...cfg, color });
      tiles.append(tile.el);

      const panel = document.createElement("section");
      panel.className = "panel";
      panel.dataset["testid"] = `chart-${cfg.key}`;
      panel.style.setProperty("--series-color", color);
      panel.setAttribute("aria-label", `${cfg.name} chart. Arrow keys pan, plus and minus zoom, L returns to live.`);
      panel.tabIndex = 0;
      panel.addEventListener("keydown", (e) => this.onChartKey(e));
      panel.innerHTML = `
        <header class="panel-head">
          <h3 class="panel-title"><span class="swatch" aria-hidden="true"></span><span class="panel-name"></span><span class="panel-unit"></span></h3>
          <span class="panel-badges"></span>
          <div class="stats" data-testid="stats-${cfg.key}" aria-label="Window statistics"></div>
        </header>
        <div class="plot"></div>`;
      panel.querySelector(".panel-name")!.textContent = cfg.name;
      panel.querySelector(".panel-unit")!.textContent = cfg.unit ? cfg.unit : "";
      charts.append(panel);
      const chart = new SeriesChart({ ...cfg, color }, panel, events);
      const s: Series = {
        cfg,
        index,
        info: null,
        buf: new SeriesBuffer(),
        chart,
        tile,
        stats: new StatsView(panel.querySelector(".stats")!),
        intervalMs: null,
        bucketMs: 0,
        downsampled: false,
        loadCtl: null,
        statsCtl: null,
        loaded: false,
        state: "loading",
        error: null,
        dirty: false,
      };
      tile.el.addEventListener("click", () => panel.scrollIntoView({ behavior: "smooth", block: "nearest" }));
      this.series.set(cfg.key, s);
      this.order.push(s);
    });
    this.order[this.order.length - 1]!.chart.timeLabels = true;
    for (const s of this.order.slice(0, -1)) s.chart.timeLabels = false;
    this.fitPlots();
    window.addEventListener("resize", () => this.fitPlots());
    // The banner, a wrapping toolbar or taller tiles move the charts down: refit.
    const refit = new ResizeObserver(() => this.fitPlots());
    for (const sel of ["#banner", ".toolbar", "#tiles", ".caption-row"]) {
      const el = document.querySelector(sel);
      if (el) refit.observe(el);
    }
    for (const s of this.order) {
      s.chart.build();
      s.chart.setOverlay({ kind: "loading", text: "Loading history…" });
    }
  }

  /** Sizes the plots so all charts fit the viewport below the tiles (within limits). */
  private fitPlots(): void {
    const charts = document.getElementById("charts")!;
    const top = charts.getBoundingClientRect().top + window.scrollY;
    const n = Math.max(1, this.order.length);
    const chrome = 38; // panel header, padding and gap
    const axis = 32; // the time labels under the bottom chart
    const bottom = 14;
    const avail = window.innerHeight - top - bottom - axis - n * chrome;
    const h = Math.max(110, Math.min(440, Math.floor(avail / n)));
    charts.style.setProperty("--plot-h", `${h}px`);
  }

  async start(): Promise<void> {
    this.renderConnection();
    window.setInterval(() => this.tick(), 1000);
    window.setInterval(() => void this.refreshSeriesInfo(), SERIES_REFRESH_MS);
    await this.refreshSeriesInfo();
    this.resolveWindow();
    this.applyWindowToCharts();
    this.renderWindow();
    await this.load(this.order.map((s) => s.cfg.key));
    await this.fillTileValues();
    this.scheduleStats(0);
    this.ready = true;
    this.liveStarted = true;
    this.live.start();
  }

  /** GET /api/series: states, intervals, stale thresholds and latest times. */
  private async refreshSeriesInfo(): Promise<void> {
    let infos: SeriesInfo[];
    try {
      infos = await api.listSeries();
    } catch (err) {
      if (!this.ready) this.controls.showBanner("error", `Cannot reach the server: ${message(err)}`);
      return;
    }
    for (const info of infos) {
      const s = this.series.get(info.key);
      if (!s) continue;
      // A table that appeared, got its first rows or finished loading since the last look.
      const becameOk = s.info !== null && s.state !== "ok" && info.state === "ok";
      s.info = info;
      s.intervalMs = info.interval_ms ?? s.intervalMs;
      const configured = s.cfg.stale_after !== null ? s.cfg.stale_after * 1000 : null;
      const derived = s.intervalMs ? Math.max(10_000, 5 * s.intervalMs) : 60_000;
      s.tile.staleAfterMs = info.stale_after_ms ?? configured ?? derived;
      const last = api.isoToMs(info.last);
      if (last !== null) s.tile.offerTime(last);
      s.state = info.state;
      s.error = info.error;
      s.tile.setState(info.state === "ok" ? "ok" : info.state, info.error ?? "");
      if (becameOk && this.ready) void this.load([info.key]);
    }
    // The server is still loading a table: look again soon rather than in 30 s.
    window.clearTimeout(this.infoRetry);
    if (infos.some((i) => i.state === "loading")) this.infoRetry = window.setTimeout(() => void this.refreshSeriesInfo(), 2000);
  }

  /** Tiles need the latest value even when the window does not hold it. */
  private async fillTileValues(): Promise<void> {
    await Promise.all(
      this.order.map(async (s) => {
        const last = api.isoToMs(s.info?.last ?? null);
        if (last === null || (s.tile.latestT === last && s.buf.lastT === last)) return;
        try {
          const st = await api.seriesStats(s.cfg.key, last, last);
          if (st.last_t !== null) s.tile.offer(st.last_t, st.last);
        } catch {
          // The tile keeps showing the time only.
        }
      }),
    );
  }

  // ---- the window -----------------------------------------------------------

  private newest(): number | null {
    let n: number | null = null;
    for (const s of this.order) {
      const t = s.tile.latestT;
      if (t !== null && (n === null || t > n)) n = t;
    }
    return n;
  }

  private oldest(): number | null {
    let n: number | null = null;
    for (const s of this.order) {
      const t = api.isoToMs(s.info?.first ?? null) ?? s.buf.firstT;
      if (t !== null && (n === null || t < n)) n = t;
    }
    return n;
  }

  private resolveWindow(): boolean {
    return this.win.resolve(this.newest(), this.oldest());
  }

  /** A user-chosen window: remembered for Back, written to the URL, loaded. */
  private setSpec(spec: WindowSpec, remember = true): void {
    this.win.set(spec, remember);
    this.afterWindowChange();
  }

  private afterWindowChange(): void {
    this.controls.setCanGoBack(this.win.canGoBack);
    this.resolveWindow();
    this.applyWindowToCharts();
    this.renderWindow();
    this.scheduleLoad();
    this.scheduleStats();
  }

  private zoomTo(min: number, max: number): void {
    this.setSpec({ kind: "fixed", start: min, end: max });
    // Synced charts redraw the selection on their own mouseup, after this: clear it next frame.
    requestAnimationFrame(() => {
      for (const s of this.order) s.chart.clearSelect();
    });
  }

  private zoomOut(): void {
    const spec = this.win.zoomedOut();
    if (spec) this.setSpec(spec);
  }

  private panBy(fraction: number): void {
    this.setSpec(this.win.panned(fraction));
  }

  /** Shift+drag: move the charts while dragging, load once released. */
  private panTo(min: number, max: number, commit: boolean): void {
    if (commit) {
      this.setSpec({ kind: "fixed", start: min, end: max });
      return;
    }
    for (const s of this.order) s.chart.setWindow(min, max);
  }

  private onChartKey(e: KeyboardEvent): void {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    switch (e.key) {
      case "ArrowLeft":
        this.panBy(-0.25);
        break;
      case "ArrowRight":
        this.panBy(0.25);
        break;
      case "+":
      case "=":
        this.setSpec(this.win.zoomedIn());
        break;
      case "-":
        this.zoomOut();
        break;
      case "Backspace":
        this.back();
        break;
      case "l":
      case "L":
        if (!this.win.live) this.setSpec(this.win.toggledLive());
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  private back(): void {
    if (this.win.back()) this.afterWindowChange();
  }

  private toggleLive(): void {
    this.setSpec(this.win.toggledLive());
  }

  private refresh(): void {
    void this.refreshSeriesInfo().then(() => {
      this.resolveWindow();
      this.applyWindowToCharts();
      this.renderWindow();
      void this.load(this.order.map((s) => s.cfg.key));
      this.scheduleStats(0);
    });
  }

  private toggleTz(): void {
    setTimeZoneMode(timeZoneMode() === "utc" ? "local" : "utc");
    this.controls.setTz(timeZoneMode());
    this.rebuildCharts();
    this.renderWindow();
    for (const s of this.order) s.tile.render(Date.now());
  }

  private onThemeChange(): void {
    this.controls?.setTheme(currentTheme());
    if (this.order.length) this.rebuildCharts();
  }

  private rebuildCharts(): void {
    for (const s of this.order) {
      s.chart.build();
      s.chart.setWindow(this.win.start, this.win.end);
      s.dirty = true;
    }
    this.requestFrame();
  }

  private applyWindowToCharts(): void {
    for (const s of this.order) s.chart.setWindow(this.win.start, this.win.end);
    // Data outside the window is trimmed lazily in the frame.
    for (const s of this.order) s.dirty = true;
    this.requestFrame();
  }

  private renderWindow(): void {
    this.controls.showWindow(this.win.spec, this.win.start, this.win.end);
    writeUrl(this.win.spec, timeZoneMode());
  }

  // ---- loading ------------------------------------------------------------

  private scheduleLoad(): void {
    window.clearTimeout(this.loadTimer);
    // Debounced: drag-zooms and repeated clicks load once, at full resolution.
    this.loadTimer = window.setTimeout(() => void this.load(this.order.map((s) => s.cfg.key)), LOAD_DEBOUNCE_MS);
  }

  /** Reloads the window for the given series through REST (appends are queued meanwhile). */
  private async load(keys: string[]): Promise<void> {
    await Promise.all(keys.map((k) => this.loadOne(this.series.get(k)!)));
    this.requestFrame();
  }

  private async loadOne(s: Series): Promise<void> {
    s.loadCtl?.abort();
    const ctl = new AbortController();
    s.loadCtl = ctl;
    if (s.state === "missing") {
      s.loaded = true;
      s.dirty = true;
      return;
    }
    s.buf.beginReload();
    if (!s.loaded) s.chart.setOverlay({ kind: "loading", text: "Loading history…" });
    s.chart.setBusy(true);
    const start = this.win.start;
    let end = this.win.end;
    if (this.win.live) {
      // Ask past the newest row so the snapshot holds every row up to its seq:
      // rows behind an append we have not received yet are not lost.
      end = Math.max(end, Date.now()) + Math.max(60_000, (end - start) * 0.02);
    }
    const points = Math.min(this.boot.max_points || 10_000, s.chart.pixelWidth());
    try {
      const d = await api.seriesData(s.cfg.key, start, end, points, ctl.signal);
      if (ctl.signal.aborted) return;
      s.buf.finishReload(d.t, d.v, d.seq);
      s.downsampled = d.downsampled;
      s.bucketMs = d.downsampled ? (d.end - d.start) / points : 0;
      if (!d.downsampled && !s.info?.interval_ms) s.intervalMs = medianInterval(d.t) ?? s.intervalMs;
      if (d.state && d.state !== "loading") {
        s.state = d.state;
        s.tile.setState(d.state === "ok" ? "ok" : d.state, s.error ?? "");
      }
      const n = s.buf.length;
      if (n) {
        const lastT = s.buf.lastT!;
        s.tile.offer(lastT, s.buf.v[n - 1] ?? null);
      }
      s.loaded = true;
      s.error = null;
    } catch (err) {
      if (api.isAbort(err)) return;
      s.buf.cancelReload();
      s.loaded = true;
      s.error = message(err);
      if (err instanceof api.ApiError && err.status === 404) s.state = "missing";
      else s.state = "error";
    } finally {
      if (s.loadCtl === ctl) {
        s.loadCtl = null;
        s.chart.setBusy(false);
      }
    }
    s.dirty = true;
    this.requestFrame();
  }

  // ---- stats ----------------------------------------------------------------

  private scheduleStats(delay = STATS_DEBOUNCE_MS): void {
    window.clearTimeout(this.statsTimer);
    this.statsTimer = window.setTimeout(() => void this.loadStats(), delay);
  }

  private async loadStats(): Promise<void> {
    this.lastStatsAt = Date.now();
    const start = this.win.start;
    const end = this.win.end;
    await Promise.all(
      this.order.map(async (s) => {
        s.statsCtl?.abort();
        if (s.state === "missing") {
          s.stats.clear();
          return;
        }
        const ctl = new AbortController();
        s.statsCtl = ctl;
        s.stats.pending();
        try {
          s.stats.show(await api.seriesStats(s.cfg.key, start, end, ctl.signal));
        } catch (err) {
          if (!api.isAbort(err)) s.stats.error(`Statistics unavailable: ${message(err)}`);
        }
      }),
    );
  }

  // ---- live -----------------------------------------------------------------

  private subscription(): { since: Record<string, number>; seq: Record<string, number> } {
    const since: Record<string, number> = {};
    const seq: Record<string, number> = {};
    for (const s of this.order) {
      const t = Math.max(s.tile.latestT ?? -Infinity, s.buf.lastT ?? -Infinity);
      // An empty series subscribes from 0 so its first rows are replayed too.
      since[s.cfg.key] = Number.isFinite(t) ? t : 0;
      if (s.buf.seq >= 0) seq[s.cfg.key] = s.buf.seq;
    }
    return { since, seq };
  }

  private onHello(seq: Record<string, number>, db: DbStatus): void {
    this.onStatus(db, true);
    // Back after the server was unreachable: load what failed.
    if (this.order.some((s) => s.state === "error")) {
      this.refresh();
      return;
    }
    // A seq below ours means the server restarted and counts afresh: what we
    // hold cannot be matched against its batches, so reload.
    const restarted = this.order.filter((s) => seq[s.cfg.key] !== undefined && seq[s.cfg.key]! < s.buf.seq);
    for (const s of restarted) s.buf.resetSeq();
    if (restarted.length) void this.load(restarted.map((s) => s.cfg.key));
  }

  private onStatus(db: DbStatus, initial = false): void {
    const was = this.db?.state;
    this.db = db;
    if (db.state === "down") {
      this.controls.showBanner(
        "error",
        `Database unavailable since ${fmtTime(db.since)}${db.error ? ` (${db.error})` : ""}. Showing the last data received; the server reconnects by itself.`,
      );
    } else if (was === "down" || (!initial && was === undefined)) {
      this.controls.showBanner("ok", `Database connection restored at ${fmtTime(db.since)}.`, 6000);
    } else if (initial) this.controls.hideBanner();
    this.renderConnection();
  }

  private onAppend(m: AppendMessage): void {
    const s = this.series.get(m.series);
    if (!s) return;
    this.lastUpdate = Date.now();
    this.renderConnection();
    const n = m.t.length;
    if (n) s.tile.offer(m.t[n - 1]!, m.v[n - 1] ?? null);
    if (s.state !== "ok" && n) {
      s.state = "ok";
      s.tile.setState("ok");
    }
    if (s.buf.append({ t: m.t, v: m.v, seq: m.seq }) === "applied") {
      s.dirty = true;
      if (this.win.live) this.windowDirty = true;
      // A long live window fills with raw rows: re-fetch it downsampled.
      if (s.buf.length > 8 * s.chart.pixelWidth() && !s.loadCtl) void this.load([s.cfg.key]);
      this.requestFrame();
    }
  }

  private renderConnection(): void {
    let state: ConnectionState;
    if (this.link === "reconnecting") state = "reconnecting";
    else if (this.link === "connecting" || !this.liveStarted) state = "connecting";
    else if (this.db?.state === "down") state = "db-down";
    else state = "live";
    this.controls.setConnection(state, this.lastUpdate);
  }

  private tick(): void {
    const now = Date.now();
    for (const s of this.order) s.tile.render(now);
    if (this.win.live && this.ready && now - this.lastStatsAt > STATS_LIVE_EVERY_MS) this.scheduleStats(0);
  }

  // ---- drawing -------------------------------------------------------------

  private requestFrame(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  private draw(): void {
    this.frame = 0;
    if (this.windowDirty) {
      this.windowDirty = false;
      if (this.resolveWindow()) {
        for (const s of this.order) if (!s.dirty) s.chart.setWindow(this.win.start, this.win.end);
        this.renderWindow();
      }
    }
    for (const s of this.order) {
      if (!s.dirty) continue;
      s.dirty = false;
      if (!s.buf.reloading) {
        // Keep a margin so a small pan or a late row near the edge still draws.
        const margin = (this.win.end - this.win.start) * 0.05;
        s.buf.trim(this.win.start - margin, this.win.live ? Infinity : this.win.end + margin);
      }
      s.chart.setWindow(this.win.start, this.win.end);
      const gap = gapThreshold(s.intervalMs, s.bucketMs);
      const { t, v } = withGaps(s.buf.t, s.buf.v, gap);
      s.chart.setData(t, v);
      s.chart.setOverlay(this.overlayFor(s));
    }
    if (this.hoverChart && this.hoverT !== null) this.renderTooltip();
  }

  private overlayFor(s: Series): { kind: "loading" | "empty" | "missing" | "error"; text: string } | null {
    if (!s.loaded) return { kind: "loading", text: "Loading history…" };
    if (s.state === "missing") return { kind: "missing", text: `Table not found: ${s.info?.table ?? s.cfg.key}` };
    if (s.state === "error") return { kind: "error", text: `Cannot load ${s.cfg.name}: ${s.error ?? "error"}` };
    if (s.state === "empty" && !s.buf.length) return { kind: "empty", text: "No data: the table is empty" };
    const [i0, i1] = s.buf.range(this.win.start, this.win.end);
    if (i1 <= i0) return { kind: "empty", text: "No data in this window" };
    return null;
  }

  // ---- tooltip ---------------------------------------------------------------

  private onHover(chart: SeriesChart, t: number | null, left: number, top: number): void {
    if (t === null) {
      this.hoverChart = null;
      this.hoverT = null;
      this.tooltip.hide();
      return;
    }
    this.hoverChart = chart;
    this.hoverT = t;
    this.hoverPos = [left, top];
    this.renderTooltip();
  }

  private renderTooltip(): void {
    const chart = this.hoverChart;
    const t = this.hoverT;
    if (!chart || t === null) return;
    const rows: TooltipRow[] = this.order.map((s) => {
      const i = s.buf.nearest(t);
      // Only a sample close to the cursor counts: across a gap there is no value.
      const near = i >= 0 && Math.abs(s.buf.t[i]! - t) <= gapThreshold(s.intervalMs, s.bucketMs) / 2;
      return {
        name: s.cfg.name,
        unit: s.cfg.unit,
        color: seriesColor(s.index),
        value: near ? (s.buf.v[i] ?? null) : undefined,
        current: s.chart === chart,
      };
    });
    const [left, top] = this.hoverPos;
    this.tooltip.show(chart, t, left, top, rows, this.win.span < 120_000);
  }

  // ---- CSV -------------------------------------------------------------------

  private download(keys: string[]): void {
    // A plain link streams the file and keeps the server's file name
    // (Content-Disposition), whatever the size of the window.
    const a = document.createElement("a");
    a.href = api.exportUrl(this.win.start, this.win.end, keys);
    a.download = "";
    a.rel = "noopener";
    document.body.append(a);
    a.click();
    a.remove();
  }

  // ---- test hooks --------------------------------------------------------------

  private exposeForTests(): void {
    const self = this;
    const view = Object.freeze({
      get ready() {
        return self.ready;
      },
      get live() {
        return self.win.live;
      },
      get window() {
        return Object.freeze({ start: self.win.start, end: self.win.end });
      },
      get loading() {
        return self.order.some((s) => s.loadCtl !== null);
      },
      get connection() {
        return document.querySelector<HTMLElement>('[data-testid="connection-status"]')?.dataset["state"] ?? null;
      },
      get tz() {
        return timeZoneMode();
      },
      get theme() {
        return currentTheme();
      },
      keys: () => this.order.map((s) => s.cfg.key),
      points: (key: string) => this.series.get(key)?.buf.length ?? 0,
      lastT: (key: string) => {
        const s = this.series.get(key);
        if (!s) return null;
        const t = Math.max(s.tile.latestT ?? -Infinity, s.buf.lastT ?? -Infinity);
        return Number.isFinite(t) ? t : null;
      },
      seq: (key: string) => this.series.get(key)?.buf.seq ?? null,
      /** Values of the rows held at exactly time t (duplicate timestamps give several). */
      valuesAt: (key: string, t: number) => {
        const s = this.series.get(key);
        if (!s) return [];
        const [i0, i1] = s.buf.range(t, t);
        return s.buf.v.slice(i0, i1);
      },
      /** Rows held inside the visible window (compare with the stats route's raw count). */
      rowsInWindow: (key: string) => {
        const s = this.series.get(key);
        if (!s) return 0;
        const [i0, i1] = s.buf.range(this.win.start, this.win.end);
        return i1 - i0;
      },
      downsampled: (key: string) => this.series.get(key)?.downsampled ?? false,
      state: (key: string) => this.series.get(key)?.state ?? null,
    });
    Object.defineProperty(window, "__dashboard", { value: view, configurable: false, writable: false });
  }
}

const PALETTE_VARS = ["--series-1", "--series-2", "--series-3", "--series-4", "--series-5", "--series-6"];
function seriesColor(i: number): string {
  return cssVar(PALETTE_VARS[i % PALETTE_VARS.length]!) || "#3b82f6";
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

