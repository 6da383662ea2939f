// One uPlot chart per series. The x scale always shows the dashboard's
// window (never the data's extent), so appends cannot move a chosen zoom.
// Cursor and selection are synced across charts by uPlot's sync key. The y
// scale is a robust automatic fit or the range the user set.

import uPlot from "uplot";

import type { Gap } from "./buffer";
import { startPan } from "./chartpan";
import { drawAlarmTrace, drawLimitLabels, drawLimitZones, drawMarkers, drawOutages, type Palette } from "./chartdraw";
import { withAlpha } from "./color";
import { axisLabel, fmtValue } from "./format";
import { alarmIndices, inForceIndex, sampleIndices, type Drawn } from "./segments";
import { chartStyle, type ChartStyle } from "./theme";
import { fmtTicks, timeZoneMode } from "./time";
import type { Interpolation, SeriesStyle } from "./types";
import { autoRange, clippedIndices, niceTicks, robustRange, tickLabel, type Range, type Ticks } from "./yaxis";

const SYNC_KEY = "bioreactor";
const Y_AXIS_SIZE = 64;

/** The widest y labels of each chart: stacked plots share one left edge, so their times line up. */
const yLabelWidths = new Map<SeriesChart, number>();
let sharedYAxisSize = 0;

export interface ChartEvents {
  /** The user dragged out [min, max] on this chart. */
  zoom(min: number, max: number): void;
  /** Shift+drag pan in progress (commit=false) or finished (commit=true). */
  pan(min: number, max: number, commit: boolean): void;
  zoomOut(): void;
  /** The cursor is over this chart at time t (null: left the chart). */
  hover(chart: SeriesChart, t: number | null, left: number, top: number): void;
}

export type Overlay = { kind: "loading" | "empty" | "missing" | "error"; text: string } | null;

/** What the chart draws besides the arrays: outages, how to join samples, whether the window is live. */
export interface DrawOptions {
  gaps: readonly Gap[];
  interpolation: Interpolation;
  /** A live window: the newest sample (the current value) is always inside the automatic y range. */
  live: boolean;
}

export class SeriesChart {
  readonly panel: HTMLElement;
  readonly plot: HTMLDivElement;
  private readonly overlay: HTMLDivElement;
  private readonly progress: HTMLDivElement;
  private u: uPlot | null = null;
  private drawn: Drawn = { x: [], y: [], isolated: [], held: -1 };
  /** The last automatic y fit, and what it was computed from (see yRange). */
  private yFit: { drawn: Drawn; min: number; max: number; live: boolean; range: Range | null } | null = null;
  private opts: DrawOptions = { gaps: [], interpolation: "step", live: false };
  private hasData = false;
  private min = 0;
  private max = 1;
  /** A y range the user set; null: automatic. */
  private manual: Range | null = null;
  private ticks: Ticks = { ticks: [], step: 0, decimals: 0 };
  /** The y axis width this chart last laid out with (see yAxisSize). */
  private axisSize = 0;
  /** What the last draw showed, for tests: the y range, its labels, the edge markers. */
  shown = { y: { min: 0, max: 1 }, labels: [] as string[], clipped: 0, limits: [] as string[] };
  private dragOrigin = false;
  private resizeObs: ResizeObserver;
  /** Only the bottom chart labels the shared time axis; the others keep its grid. */
  timeLabels = true;

  constructor(
    readonly series: SeriesStyle,
    panel: HTMLElement,
    private readonly events: ChartEvents,
  ) {
    this.panel = panel;
    this.plot = panel.querySelector<HTMLDivElement>(".plot")!;
    this.overlay = document.createElement("div");
    this.overlay.className = "plot-overlay";
    this.progress = document.createElement("div");
    this.progress.className = "plot-progress";
    this.plot.append(this.overlay, this.progress);
    this.resizeObs = new ResizeObserver(() => this.fit());
    this.resizeObs.observe(this.plot);
  }

  /** Plot area width in device pixels: the `points` to ask the server for. */
  pixelWidth(): number {
    const cssWidth = this.u ? this.u.bbox.width / uPlot.pxRatio : Math.max(200, this.plot.clientWidth - Y_AXIS_SIZE - 20);
    return Math.max(100, Math.round(cssWidth * (window.devicePixelRatio || 1)));
  }

  /** How close a sample must be to the cursor to be "at" it: a pixel, and never over half a second. */
  exactMs(): number {
    const w = this.u ? this.u.bbox.width / uPlot.pxRatio : this.plot.clientWidth || 1000;
    return Math.min(500, (this.max - this.min) / Math.max(1, w));
  }

  /** Builds (or rebuilds, after a theme or zone change) the uPlot instance. */
  /** The plot box's size now, for build: measured for all charts before any is built, one layout serves all. */
  measure(): { width: number; height: number } {
    return {
      width: Math.max(240, Math.floor(this.plot.clientWidth)),
      height: Math.max(100, Math.floor(this.plot.clientHeight)),
    };
  }

  build(style: ChartStyle = chartStyle(), { width, height } = this.measure()): void {
    this.u?.destroy();
    const s = this.series;
    const { text, grid, fontSize: px, family } = style;
    const hasLimits = s.low !== null || s.high !== null;
    const utc = timeZoneMode() === "utc";
    const label = axisLabel(s.name, s.unit, height);
    const font = `${px}px ${family}`;
    const labelFont = `600 ${px}px ${family}`;
    const yAxisSize = Math.round((Y_AXIS_SIZE * px) / 11);
    const palette: Palette = {
      series: s.color,
      alarm: style.alarm,
      surface: style.surface,
      text,
      font: `${Math.round(px * uPlot.pxRatio)}px ${family}`,
    };
    const lim = { low: s.low, high: s.high };
    const step = uPlot.paths.stepped!({ align: 1 });
    const linear = uPlot.paths.linear!();

    const opts: uPlot.Options = {
      width,
      height,
      ms: 1, // x values are epoch milliseconds
      pxAlign: 0,
      tzDate: utc ? (ts) => uPlot.tzDate(new Date(ts), "Etc/UTC") : (ts) => new Date(ts),
      legend: { show: false },
      padding: [10, 20, 0, 0],
      cursor: {
        sync: { key: SYNC_KEY, setSeries: false },
        drag: { x: true, y: false, setScale: false, dist: 4 },
        points: { size: 7, width: 2 },
        // The hover dot marks the sample in force at the cursor, as the tooltip reads it.
        dataIdx: (_u, si, closest, xValue) => (si === 1 ? inForceIndex(this.drawn, closest, xValue, this.exactMs()) : closest),
        bind: {
          mousedown: (u, _targ, handler) => (e: MouseEvent) => {
            if (e.shiftKey || e.button === 1) {
              startPan(u, e, this.min, this.max, (a, b, commit) => this.events.pan(a, b, commit));
              return null;
            }
            this.dragOrigin = true;
            const r = handler(e); // registers uPlot's own document mouseup first
            // A click without a drag fires no setSelect: forget the origin once uPlot is done.
            document.addEventListener("mouseup", () => (this.dragOrigin = false), { once: true });
            return r;
          },
          dblclick: () => () => {
            // uPlot listens passively: no preventDefault (Chrome logs an error for it).
            this.events.zoomOut();
            return null;
          },
        },
      },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      scales: {
        x: { time: true, range: () => [this.min, this.max] },
        y: { auto: true, range: () => this.yRange() },
      },
      series: [
        {},
        {
          label,
          stroke: s.color,
          width: 1.75,
          // No area fill under limit zones: the tints would mix into mud.
          fill: hasLimits ? undefined : withAlpha(s.color, 0.08),
          spanGaps: false,
          paths: (u, si, i0, i1) => (this.opts.interpolation === "linear" ? linear : step)(u, si, i0, i1),
          points: {
            size: 4,
            width: 0,
            fill: s.color,
            // Dense data shows no dots; a sample between two outages always gets one. The held
            // value carried to the window's end is not a sample: no dot there.
            filter: (_u, _si, show) =>
              show ? sampleIndices(this.drawn, this.min, this.max) : this.drawn.isolated.length ? this.drawn.isolated : null,
          },
          value: (_u, v) => fmtValue(v),
        },
      ],
      axes: [
        {
          stroke: text,
          font,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1, size: 4 },
          space: 80,
          size: this.timeLabels ? px * 3.4 : 6, // two lines: time, and the date where it changes
          values: this.timeLabels ? (_u, ticks, _ax, _space, incr) => fmtTicks(ticks, incr) : (_u, ticks) => ticks.map(() => ""),
        },
        {
          stroke: text,
          font,
          label,
          labelFont,
          labelSize: 18,
          labelGap: 2,
          size: (u, values) => this.yAxisSize(u, values, font, yAxisSize),
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          // Ticks from the step actually used, at least three where the plot is tall enough.
          splits: (u, _ax, lo, hi) => {
            this.ticks = niceTicks(lo, hi, u.bbox.height / uPlot.pxRatio || height - 20, px * 2.7, px * 1.45);
            return this.ticks.ticks;
          },
          values: (_u, ticks) => {
            // No meaningless 0–1 scale on an empty chart (one with limits has a real scale).
            const meaningful = this.hasData || hasLimits;
            const labels = ticks.map((t) => (meaningful ? tickLabel(t, this.ticks.decimals) : ""));
            this.shown.labels = labels.filter(Boolean);
            return labels;
          },
        },
      ],
      hooks: {
        drawAxes: [
          (u) => drawOutages(u, this.opts.gaps, palette),
          (u) => drawLimitZones(u, lim, palette),
        ],
        drawSeries: [(u, si) => si === 1 && drawAlarmTrace(u, lim, palette)],
        draw: [
          (u) => {
            const sc = u.scales["y"]!;
            const r = { min: sc.min ?? 0, max: sc.max ?? 1 };
            this.shown.y = r;
            const clipped = clippedIndices(this.drawn.x, this.drawn.y, r, this.min, this.max).filter((i) => i !== this.drawn.held);
            const alarms = alarmIndices(this.drawn, this.min, this.max, s.low, s.high);
            this.shown.clipped = drawMarkers(u, clipped, alarms, lim, palette);
            this.shown.limits = drawLimitLabels(u, lim, palette);
          },
        ],
        setSelect: [(u) => this.onSelect(u)],
        setCursor: [(u) => this.onCursor(u)],
      },
    };
    this.u = new uPlot(opts, [this.drawn.x, this.drawn.y], this.plot);
    this.plot.prepend(this.u.root);
    this.u.over.addEventListener("mouseleave", () => this.events.hover(this, null, 0, 0));
  }

  destroy(): void {
    yLabelWidths.delete(this);
    this.resizeObs.disconnect();
    this.u?.destroy();
    this.u = null;
  }

  /** The x range the chart actually draws (from uPlot), for tests and checks. */
  drawnWindow(): { start: number; end: number } | null {
    const x = this.u?.scales["x"];
    return x && x.min != null && x.max != null ? { start: x.min, end: x.max } : null;
  }

  setWindow(min: number, max: number): void {
    // Every redraw passes the window: an unchanged one must not cost a second draw.
    if (min === this.min && max === this.max) return;
    this.min = min;
    this.max = max;
    this.u?.setScale("x", { min, max });
  }

  /** Replaces the drawn arrays (already broken at outages, see segments.ts). */
  setData(d: Drawn, opts: DrawOptions): void {
    this.drawn = d;
    this.opts = opts;
    const had = this.hasData;
    this.hasData = d.y.some((x) => x !== null);
    this.u?.setData([d.x, d.y], true);
    // uPlot recomputes axis labels only when a scale moves: the labels depend on hasData too.
    if (had !== this.hasData) this.u?.redraw(false, true);
  }

  /** A fixed y range, or null for the automatic one. */
  setManualY(r: Range | null): void {
    this.manual = r;
    this.u?.setData([this.drawn.x, this.drawn.y], true); // re-runs the range function
  }

  get manualY(): Range | null {
    return this.manual;
  }

  /** The y range drawn now (after a draw), for the range control's inputs. */
  currentY(): Range {
    return this.shown.y;
  }

  setOverlay(o: Overlay): void {
    // Called on every redraw: touch the DOM only on a change, so nothing re-renders per row.
    const cls = `plot-overlay${o ? ` is-${o.kind}` : ""}`;
    const text = o ? o.text : "";
    if (this.overlay.className !== cls) this.overlay.className = cls;
    if (this.overlay.textContent !== text) this.overlay.textContent = text;
    this.overlay.hidden = !o;
  }

  /** A thin bar while newer data for the window is being fetched (data stays visible). */
  setBusy(busy: boolean): void {
    this.progress.classList.toggle("is-active", busy);
  }

  clearSelect(): void {
    this.u?.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
  }

  /** Moves the crosshair to (t, v) as the keyboard cursor; returns its position in the plot (CSS px). */
  pointAt(t: number, v: number | null): { left: number; top: number } | null {
    if (!this.u || t < this.min || t > this.max) return null;
    const left = this.u.valToPos(t, "x");
    const top = v === null ? this.u.bbox.height / uPlot.pxRatio / 2 : this.u.valToPos(v, "y");
    this.u.setCursor({ left, top });
    return { left, top };
  }

  /** Left offset and width (CSS px) of the plotting area inside the panel's plot box. */
  plotBox(): { left: number; top: number; width: number; height: number } | null {
    if (!this.u) return null;
    const r = this.u.over.getBoundingClientRect();
    const p = this.plot.getBoundingClientRect();
    return { left: r.left - p.left, top: r.top - p.top, width: r.width, height: r.height };
  }

  private yRange(): uPlot.Range.MinMax {
    if (this.manual) return [this.manual.min, this.manual.max];
    // uPlot asks several times per drawing, and the fit sorts every point: ask it once per data and window.
    const c = this.yFit;
    if (c?.drawn !== this.drawn || c.min !== this.min || c.max !== this.max || c.live !== this.opts.live) {
      const data = robustRange(this.drawn.x, this.drawn.y, this.min, this.max, this.opts.live);
      this.yFit = { drawn: this.drawn, min: this.min, max: this.max, live: this.opts.live, range: data };
    }
    const r = autoRange(this.yFit!.range, this.series.low, this.series.high);
    return [r.min, r.max];
  }

  /** Room for the widest y labels of all charts (label, gap and title included). */
  private yAxisSize(u: uPlot, values: string[] | null, font: string, min: number): number {
    yLabelWidths.set(this, this.labelWidth(u, values, font));
    const size = Math.max(min, Math.max(...yLabelWidths.values()) + 30);
    this.axisSize = size;
    if (size !== sharedYAxisSize) {
      sharedYAxisSize = size;
      // The others take the new width on their next layout: ask for it now, of those not already
      // laid out at it (at start-up every chart is, and a second draw of each would delay the first view).
      requestAnimationFrame(() => {
        for (const c of yLabelWidths.keys()) if (c.axisSize !== sharedYAxisSize) c.u?.redraw(false, true);
      });
    }
    return size;
  }

  /** The widest y label in CSS px (canvas text is measured in device pixels). */
  private labelWidth(u: uPlot, values: string[] | null, font: string): number {
    if (!values?.length) return 0;
    const ctx = u.ctx;
    ctx.save();
    ctx.font = font;
    const w = Math.max(...values.map((v) => ctx.measureText(v).width));
    ctx.restore();
    return Math.ceil(w);
  }

  private fit(): void {
    if (!this.u) return;
    const { width, height } = this.measure();
    const s = this.series;
    if (axisLabel(s.name, s.unit, height) !== this.u.axes[1]!.label) {
      this.build(); // the axis label is fixed at build time
      return;
    }
    if (width !== this.u.width || height !== this.u.height) this.u.setSize({ width, height });
  }

  private onSelect(u: uPlot): void {
    // Every synced chart fires setSelect on mouseup; only the one dragged on zooms.
    if (!this.dragOrigin) return;
    this.dragOrigin = false;
    const { left, width } = u.select;
    if (width < 4) return;
    const a = u.posToVal(left, "x");
    const b = u.posToVal(left + width, "x");
    this.events.zoom(Math.round(Math.min(a, b)), Math.round(Math.max(a, b)));
  }

  private onCursor(u: uPlot): void {
    const { left, top } = u.cursor;
    if (left === undefined || left < 0 || !u.cursor.event) return; // synced copies carry no event
    this.events.hover(this, u.posToVal(left, "x"), left, top ?? 0);
  }

}
