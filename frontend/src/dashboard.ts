// The dashboard: owns the time window, decides when each series reloads,
// merges WebSocket appends, and keeps charts, tiles, stats and controls in
// step. Per-series work lives in series.ts, window rules in timewindow.ts.

import * as api from "./api";
import type { ChartEvents, SeriesChart } from "./chart";
import { Controls, type ConnectionState } from "./controls";
import { LiveConnection, type LinkState, type Subscription } from "./live";
import { SeriesView, message } from "./series";
import { cssVar, currentTheme, initTheme, toggleTheme } from "./theme";
import { fmtTime, setTimeZoneMode, timeZoneMode } from "./time";
import { TimeWindow } from "./timewindow";
import { Tooltip } from "./tooltip";
import type { AppendMessage, Boot, DbStatus, SeriesInfo } from "./types";
import { readUrl, writeUrl, type WindowSpec } from "./url";

const LOAD_DEBOUNCE_MS = 120;
const STATS_DEBOUNCE_MS = 400;
const STATS_LIVE_EVERY_MS = 10_000;
const SERIES_REFRESH_MS = 30_000;

export class Dashboard {
  private readonly series = new Map<string, SeriesView>();
  private readonly order: SeriesView[] = [];
  private readonly controls: Controls;
  private readonly live: LiveConnection;
  private readonly win: TimeWindow;
  private readonly tooltip = new Tooltip();
  private ready = false;
  private liveStarted = false;
  private frame = 0;
  private windowDirty = false;
  private loadTimer: number | undefined;
  private statsTimer: number | undefined;
  private infoRetry: number | undefined;
  private lastStatsAt = 0;
  private link: LinkState = "connecting";
  private db: DbStatus | null = null;
  private lastUpdate: number | null = null;
  private lostTimer: number | undefined;
  private lostBanner = false;
  /** db.since of the last hello: it changes when the server process restarts. */
  private hover: { chart: SeriesChart; t: number; left: number; top: number } | null = null;
  /** The window shown during a shift+drag pan, before it is committed. */
  private preview: { start: number; end: number } | null = null;

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
        pan: (dir) => this.setSpec(this.win.panned(dir * 0.5)),
        toggleLive: () => this.setSpec(this.win.toggledLive()),
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
    this.controls.setTz(timeZoneMode(), this.boot.data_timezone);
    this.controls.setTheme(currentTheme());
    this.controls.setCanGoBack(false);

    this.buildSeries();
    this.live = new LiveConnection(boot.ws_path || "/ws", {
      subscription: () => this.subscription(),
      hello: (_seq, db) => this.onHello(db),
      append: (m) => this.onAppend(m),
      status: (db) => this.onStatus(db),
      resync: (keys) => void this.load(keys.filter((k) => this.series.has(k))),
      refused: (error) =>
        this.controls.showBanner("error", `Live updates were refused by the server (${error}); retrying.`, 8000),
      link: (state) => this.onLink(state),
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
    this.boot.series.forEach((cfg, i) => {
      const s = new SeriesView(cfg, seriesColor(i), events);
      s.panel.addEventListener("keydown", (e) => this.onChartKey(e));
      tiles.append(s.tile.el);
      charts.append(s.panel);
      this.series.set(cfg.key, s);
      this.order.push(s);
    });
    // One time axis, under the bottom chart; the others keep its grid.
    this.order.forEach((s, i) => (s.chart.timeLabels = i === this.order.length - 1));
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
    const axis = (Number.parseFloat(cssVar("--chart-font-size")) || 11) * 3.4; // time labels under the bottom chart
    const bottom = 14;
    const avail = window.innerHeight - top - bottom - axis - n * chrome;
    const h = Math.max(96, Math.min(440, Math.floor(avail / n)));
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
    await this.load(this.order.map((s) => s.key));
    await Promise.all(this.order.map((s) => s.fillTile()));
    this.scheduleStats(0);
    this.ready = true;
    // Subscribe only now: the subscription's since/seq come from the loaded history.
    this.liveStarted = true;
    this.live.start();
  }

  /** GET /api/series: states, intervals, stale thresholds and latest times. */
  private async refreshSeriesInfo(): Promise<void> {
    let infos: SeriesInfo[];
    try {
      infos = await api.listSeries();
    } catch (err) {
      if (!this.ready) {
        this.controls.showBanner("error", `Cannot reach the server: ${message(err)}`);
        this.lostBanner = true; // cleared with a "Reconnected" once the socket opens
      }
      return;
    }
    for (const info of infos) {
      const s = this.series.get(info.key);
      if (s?.applyInfo(info) && this.ready) void this.load([info.key]);
    }
    // The server is still loading a table: look again soon rather than in 30 s.
    window.clearTimeout(this.infoRetry);
    if (infos.some((i) => i.state === "loading")) {
      this.infoRetry = window.setTimeout(() => void this.refreshSeriesInfo(), 2000);
    }
  }

  // ---- the window -----------------------------------------------------------

  private newest(): number | null {
    const ts = this.order.map((s) => s.tile.latestT).filter((t): t is number => t !== null);
    return ts.length ? Math.max(...ts) : null;
  }

  private oldest(): number | null {
    const ts = this.order
      .map((s) => api.isoToMs(s.info?.first ?? null) ?? s.buf.firstT)
      .filter((t): t is number => t !== null);
    return ts.length ? Math.min(...ts) : null;
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

  /** Shift+drag: move the charts while dragging, load once released. */
  private panTo(min: number, max: number, commit: boolean): void {
    this.preview = commit ? null : { start: min, end: max };
    if (!commit) for (const s of this.order) s.chart.setWindow(min, max);
    else if (min === this.win.start && max === this.win.end) this.applyWindowToCharts(); // dragged back to the start
    else this.setSpec({ kind: "fixed", start: min, end: max });
  }

  private back(): void {
    if (this.win.back()) this.afterWindowChange();
  }

  private onChartKey(e: KeyboardEvent): void {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    switch (e.key) {
      case "ArrowLeft":
        this.setSpec(this.win.panned(-0.25));
        break;
      case "ArrowRight":
        this.setSpec(this.win.panned(0.25));
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

  /** Reloads the current window (and the series list) without reloading the page. */
  private refresh(): void {
    this.controls.setRefreshing(true);
    void this.refreshSeriesInfo()
      .then(() => {
        this.resolveWindow();
        this.applyWindowToCharts();
        this.renderWindow();
        this.scheduleStats(0);
        return this.load(this.order.map((s) => s.key));
      })
      .finally(() => this.controls.setRefreshing(false));
  }

  private toggleTz(): void {
    setTimeZoneMode(timeZoneMode() === "utc" ? "local" : "utc");
    this.controls.setTz(timeZoneMode(), this.boot.data_timezone);
    this.rebuildCharts();
    this.renderWindow();
    for (const s of this.order) s.tile.render(Date.now());
  }

  private onThemeChange(): void {
    // Called from initTheme before the controls exist.
    this.controls?.setTheme(currentTheme());
    if (this.order.length) this.rebuildCharts();
  }

  /** Canvas colours and the time zone are fixed when a chart is built. */
  private rebuildCharts(): void {
    for (const s of this.order) {
      s.chart.build();
      s.dirty = true;
    }
    this.requestFrame();
  }

  private applyWindowToCharts(): void {
    for (const s of this.order) {
      s.chart.setWindow(this.win.start, this.win.end);
      s.dirty = true; // overlays ("No data in this window") depend on the window
    }
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
    this.loadTimer = window.setTimeout(() => void this.load(this.order.map((s) => s.key)), LOAD_DEBOUNCE_MS);
  }

  /** Reloads the window for the given series through REST (appends are queued meanwhile). */
  private async load(keys: string[]): Promise<void> {
    const { start } = this.win;
    let { end } = this.win;
    if (this.win.live) {
      // Ask past the newest row so the snapshot holds every row up to its seq:
      // rows behind an append we have not received yet are not lost. Reach to
      // "now" only when the data is recent: a year-old data set must not turn
      // the request into a year-wide (coarsely downsampled) window.
      const span = end - start;
      const now = Date.now();
      end = (now > end && now - end < span ? now : end) + Math.max(60_000, span * 0.02);
    }
    const max = this.boot.max_points || 10_000;
    await Promise.all(
      keys.map(async (k) => {
        const s = this.series.get(k)!;
        await s.load({ start, end }, Math.min(max, s.chart.pixelWidth()));
        this.requestFrame();
      }),
    );
  }

  private scheduleStats(delay = STATS_DEBOUNCE_MS): void {
    window.clearTimeout(this.statsTimer);
    this.statsTimer = window.setTimeout(() => {
      this.lastStatsAt = Date.now();
      const win = { start: this.win.start, end: this.win.end };
      for (const s of this.order) void s.loadStats(win);
    }, delay);
  }

  // ---- live -----------------------------------------------------------------

  private subscription(): Subscription {
    const since: Record<string, number> = {};
    const seq: Record<string, number> = {};
    for (const s of this.order) {
      // An empty series subscribes from 0 so its first rows are replayed too.
      since[s.key] = s.latestT() ?? 0;
      if (s.buf.seq >= 0) seq[s.key] = s.buf.seq;
    }
    return { since, seq };
  }

  private onHello(db: DbStatus): void {
    this.onStatus(db, true);
    // Back after the server was unreachable: load what failed.
    if (this.order.some((s) => s.state === "error")) {
      this.refresh();
      return;
    }
    // What we missed while away (a restarted server included: its seqs start
    // above any we hold) comes as the replay, or as `resync` after subscribe.
  }

  private onStatus(db: DbStatus, initial = false): void {
    const was = this.db?.state;
    this.db = db;
    if (db.state === "down") {
      this.controls.showBanner(
        "error",
        `Database unavailable since ${fmtTime(db.since)}${db.error ? ` (${db.error})` : ""}. ` +
          "Showing the last data received; the server reconnects by itself.",
      );
    } else if (was === "down" || (!initial && was === undefined)) {
      this.controls.showBanner("ok", `Database connection restored at ${fmtTime(db.since)}.`, 6000);
    }
    this.renderConnection();
  }

  private onAppend(m: AppendMessage): void {
    const s = this.series.get(m.series);
    if (!s) return;
    this.lastUpdate = Date.now();
    this.renderConnection();
    const n = m.t.length;
    if (n) {
      s.tile.offer(m.t[n - 1]!, m.v[n - 1] ?? null);
      if (s.state !== "ok") {
        s.state = "ok";
        s.tile.setState("ok");
      }
    }
    if (s.buf.append({ t: m.t, v: m.v, seq: m.seq, replay: m.replay }) !== "applied") return;
    s.dirty = true;
    if (this.win.live) this.windowDirty = true;
    // A long live window fills up with raw rows: fetch it downsampled again.
    if (s.buf.length > 8 * s.chart.pixelWidth() && !s.loading) void this.load([s.key]);
    this.requestFrame();
  }

  private onLink(state: LinkState): void {
    const was = this.link;
    this.link = state;
    this.renderConnection();
    if (state === "reconnecting" && was !== "reconnecting") {
      const since = Date.now();
      // A blip is only worth the pill; a longer loss deserves the banner.
      this.lostTimer = window.setTimeout(() => {
        this.lostBanner = true;
        this.controls.showBanner(
          "error",
          `Lost the connection to the server at ${fmtTime(since)}; reconnecting. The data shown may be out of date.`,
        );
      }, 5000);
    } else if (state === "open") {
      window.clearTimeout(this.lostTimer);
      if (this.lostBanner) this.controls.showBanner("ok", "Reconnected; missed rows are being filled in.", 4000);
      this.lostBanner = false;
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

  /** At most once per frame: slide a live window, redraw series with new rows. */
  private draw(): void {
    this.frame = 0;
    if (this.windowDirty) {
      this.windowDirty = false;
      if (this.resolveWindow()) {
        if (!this.preview) for (const s of this.order) if (!s.dirty) s.chart.setWindow(this.win.start, this.win.end);
        this.renderWindow();
      }
    }
    // Live rows keep arriving during a shift+drag pan: draw them in the previewed window.
    const win = this.preview ?? { start: this.win.start, end: this.win.end };
    for (const s of this.order) if (s.dirty) s.redraw(win, this.win.live && !this.preview);
    this.renderTooltip();
  }

  private onHover(chart: SeriesChart, t: number | null, left: number, top: number): void {
    this.hover = t === null ? null : { chart, t, left, top };
    if (this.hover) this.renderTooltip();
    else this.tooltip.hide();
  }

  private renderTooltip(): void {
    if (!this.hover) return;
    const { chart, t, left, top } = this.hover;
    const rows = this.order.map((s) => ({
      name: s.cfg.name,
      unit: s.cfg.unit,
      color: s.color,
      value: s.valueNear(t),
      current: s.chart === chart,
    }));
    this.tooltip.show(chart, t, left, top, rows, this.win.span < 120_000);
  }

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

  // ---- test hooks ------------------------------------------------------------

  /** window.__dashboard: a read-only view for browser tests. */
  private exposeForTests(): void {
    const win = this.win;
    const get = (key: string) => this.series.get(key);
    const order = this.order;
    const dashboard = this;
    const view = Object.freeze({
      get ready() {
        return dashboard.ready;
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
        return document.querySelector<HTMLElement>('[data-testid="connection-status"]')?.dataset["state"] ?? null;
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
}

const PALETTE_VARS = ["--series-1", "--series-2", "--series-3", "--series-4", "--series-5", "--series-6"];

/** Series colours come from CSS (one palette that reads on both themes). */
function seriesColor(i: number): string {
  return cssVar(PALETTE_VARS[i % PALETTE_VARS.length]!) || "#3b82f6";
}
