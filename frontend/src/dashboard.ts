// The dashboard: owns the time window, decides when each series reloads,
// merges WebSocket appends, and keeps charts, tiles, stats and controls in
// step. Per-series work lives in series.ts, window rules in timewindow.ts,
// the connection pill and banner in connection.ts, what the page says about
// the data in pagestatus.ts, plot sizing in layout.ts.

import * as api from "./api";
import type { ChartEvents } from "./chart";
import { KeyboardCursor } from "./chartcursor";
import { handleChartKey, type ChartKeyActions } from "./chartkeys";
import { ConnectionStatus } from "./connection";
import { Controls } from "./controls";
import { fitPlotsToViewport } from "./layout";
import { LiveConnection, type Subscription } from "./live";
import { Loader } from "./loader";
import { PageStatus } from "./pagestatus";
import { SeriesView } from "./series";
import { StatsLoop } from "./statsloop";
import { exposeForTests } from "./testhooks";
import { chartStyle, currentTheme, initTheme, seriesColors, toggleTheme } from "./theme";
import { setTimeZoneMode, timeZoneMode } from "./time";
import { TimeWindow } from "./timewindow";
import { Tooltip } from "./tooltip";
import type { AppendMessage, Boot, DbStatus, SeriesInfo } from "./types";
import { readUrl, readYRanges, writeUrl, type WindowSpec } from "./url";

const SERIES_REFRESH_MS = 30_000;

export class Dashboard {
  private readonly series = new Map<string, SeriesView>();
  private readonly order: SeriesView[] = [];
  private readonly controls: Controls;
  private readonly connection = new ConnectionStatus();
  private readonly live: LiveConnection;
  private readonly win: TimeWindow;
  private readonly status: PageStatus;
  private readonly loader: Loader;
  private readonly stats = new StatsLoop((quiet) => this.fetchStats(quiet));
  /** One tooltip for all charts: every series' value at the cursor time. */
  private readonly tooltip = new Tooltip(
    (t, chart) =>
      this.order.map((s) => ({
        name: s.cfg.name,
        unit: s.cfg.unit,
        color: s.color,
        reading: s.readingAt(t),
        interpolation: s.interpolation,
        current: s.chart === chart,
      })),
    () => this.win.span < 120_000,
  );
  private readonly cursor = new KeyboardCursor(this.tooltip, () => this.win, () => this.win.span < 120_000);
  private ready = false;
  private frame = 0;
  private windowDirty = false;
  private infoRetry: number | undefined;
  /** The window shown during a shift+drag pan, before it is committed. */
  private preview: { start: number; end: number } | null = null;
  private fitPlots: () => void = () => undefined;

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
        download: (keys) => api.downloadCsv(this.win.start, this.win.end, keys),
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
    this.status = new PageStatus(this.connection, this.controls);
    this.loader = new Loader(this.series, this.win, boot.max_points || 10_000, {
      newest: () => this.newest(),
      loaded: () => this.requestFrame(),
      reachable: (ok) => this.connection.setFetchDown(!ok),
      retrying: () => this.stats.schedule(0),
    });

    this.buildSeries();
    this.live = new LiveConnection(boot.ws_path || "ws", {
      subscription: () => this.subscription(),
      hello: (db) => this.onHello(db),
      append: (m) => this.onAppend(m),
      status: (db) => this.connection.setDb(db, false),
      resync: (keys) => void this.loader.load(keys.filter((k) => this.series.has(k))),
      refused: (error) => this.connection.refused(error),
      link: (state) => this.connection.setLink(state),
    });
    exposeForTests({
      ready: () => this.ready,
      connection: () => this.connection.state,
      header: () => this.connection.pillState,
      win: this.win,
      series: this.series,
      order: this.order,
    });
  }

  // ---- set-up -------------------------------------------------------------

  private buildSeries(): void {
    const tiles = document.getElementById("tiles")!;
    const charts = document.getElementById("charts")!;
    const events: ChartEvents = {
      zoom: (min, max) => this.zoomTo(min, max),
      pan: (min, max, commit) => this.panTo(min, max, commit),
      zoomOut: () => this.zoomOut(),
      hover: (chart, t, left, top) => this.cursor.hover(chart, t, left, top),
    };
    const keys: Omit<ChartKeyActions, "step" | "edge"> = {
      pan: (fraction) => this.setSpec(this.win.panned(fraction)),
      zoomIn: () => this.setSpec(this.win.zoomedIn()),
      zoomOut: () => this.zoomOut(),
      back: () => this.back(),
      resumeLive: () => {
        if (!this.win.live) this.setSpec(this.win.toggledLive());
      },
      clearCursor: () => this.cursor.clear(),
    };
    const yRanges = readYRanges();
    const colors = seriesColors(this.boot.series.length);
    this.boot.series.forEach((cfg, i) => {
      const s = new SeriesView(cfg, colors[i]!, events);
      const y = yRanges.get(cfg.key);
      if (y) s.setYRange(y, false);
      // Keys on the chart itself, not on the y-range form inside its panel.
      const read = { step: (n: number) => this.cursor.move(s, n), edge: (w: "oldest" | "newest") => this.cursor.move(s, w) };
      s.panel.addEventListener("keydown", (e) => e.target === s.panel && handleChartKey(e, { ...keys, ...read }));
      s.panel.addEventListener("focusout", () => this.cursor.clear());
      tiles.append(s.tile.el);
      charts.append(s.panel);
      this.series.set(cfg.key, s);
      this.order.push(s);
    });
    // One time axis, under the bottom chart; the others keep its grid.
    this.order.forEach((s, i) => (s.chart.timeLabels = i === this.order.length - 1));
    this.fitPlots = fitPlotsToViewport(charts, this.order.length);
    for (const s of this.order) s.chart.setOverlay({ kind: "loading", text: "Loading history…" });
  }

  private buildCharts(): void {
    const style = chartStyle();
    const sizes = this.order.map((s) => s.chart.measure());
    this.order.forEach((s, i) => s.chart.build(style, sizes[i]));
  }

  async start(): Promise<void> {
    window.setInterval(() => this.tick(), 1000);
    window.setInterval(() => void this.refreshSeriesInfo(), SERIES_REFRESH_MS);
    // The page carries the series list as it was when served: no round trip before the first load.
    if (this.boot.info?.length) this.applyInfos(this.boot.info);
    else await this.refreshSeriesInfo();
    this.resolveWindow();
    this.applyWindowToCharts();
    this.renderWindow();
    // Sized now that tiles and toolbar hold their text, and built once the window is known: each
    // chart draws once before its data. Built before the first load: the `points` asked for are the
    // plot's pixel columns, which M4 must match exactly (from an estimate, it hides extremes).
    this.fitPlots();
    this.buildCharts();
    await this.loader.load(this.order.map((s) => s.key));
    cancelAnimationFrame(this.frame); // drawn now: the first view waits for no animation frame
    this.draw();
    await Promise.all(this.order.map((s) => s.fillTile()));
    this.stats.schedule(0);
    this.status.update(this.order);
    this.ready = true;
    // Subscribe only now: the subscription's since/seq come from the loaded history.
    this.live.start();
  }

  /** GET /api/series: states, intervals, stale thresholds and latest times. */
  private async refreshSeriesInfo(): Promise<void> {
    let infos: SeriesInfo[];
    try {
      infos = await api.listSeries();
    } catch {
      if (!this.ready) this.connection.unreachable();
      return;
    }
    this.applyInfos(infos);
  }

  private applyInfos(infos: readonly SeriesInfo[]): void {
    for (const info of infos) {
      const s = this.series.get(info.key);
      if (s?.applyInfo(info) && this.ready) void this.loader.load([info.key]);
    }
    this.status.update(this.order);
    this.requestFrame();
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
    this.loader.schedule();
    this.stats.schedule();
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

  /** Reloads the current window (and the series list) without reloading the page. */
  private refresh(): void {
    this.controls.setRefreshing(true);
    void this.refreshSeriesInfo()
      .then(() => {
        this.resolveWindow();
        this.applyWindowToCharts();
        this.renderWindow();
        this.stats.schedule(0);
        return this.loader.load(this.order.map((s) => s.key));
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
    this.buildCharts();
    for (const s of this.order) s.dirty = true;
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

  private fetchStats(quiet: boolean): void {
    const win = { start: this.win.start, end: this.win.end };
    for (const s of this.order) void s.loadStats(win, this.statsEnd(), quiet);
  }

  /** Live rows count in the statistics up to here: a live window grows with them. */
  private statsEnd(): number {
    return this.win.live ? Infinity : this.win.end;
  }

  // ---- live -----------------------------------------------------------------

  private subscription(): Subscription {
    const since: Record<string, number> = {};
    const seq: Record<string, number> = {};
    for (const s of this.order) {
      // The exact newest time held (µs included); an empty series subscribes from 0
      // so its first rows are replayed too. The replay replaces what we hold after it.
      since[s.key] = s.since();
      s.buf.expectReplay(since[s.key]);
      if (s.buf.seq >= 0) seq[s.key] = s.buf.seq;
    }
    return { since, seq };
  }

  /** What we missed while away (from a restarted server too) comes as the replay, or as `resync`. */
  private onHello(db: DbStatus): void {
    this.connection.setDb(db, true);
    // Back after the server was unreachable: load what failed.
    if (this.order.some((s) => s.state === "error" || s.unreachable)) this.refresh();
  }

  private onAppend(m: AppendMessage): void {
    const s = this.series.get(m.series);
    if (!s) return;
    const changed = s.applyAppend(m, this.statsEnd());
    this.status.update(this.order);
    if (!changed) return;
    if (this.win.live) {
      this.windowDirty = true;
      this.stats.liveRows();
    }
    // A long live window fills up with raw rows: fetch it downsampled again.
    if (s.rowsIn(this.win) > 8 * s.chart.pixelWidth() && !s.loading) void this.loader.load([s.key]);
    this.requestFrame();
  }

  private tick(): void {
    const now = Date.now();
    for (const s of this.order) s.tile.render(now);
    this.status.update(this.order, now);
    if (this.win.live && this.ready) this.stats.tick(now);
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
    const newest = this.newest();
    for (const s of this.order) if (s.dirty) s.redraw(win, this.win.live && !this.preview, newest);
    this.cursor.refresh();
  }
}
