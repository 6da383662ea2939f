// One uPlot chart per series. The x scale always shows the dashboard's
// window (never the data's extent), so appends cannot move a chosen zoom.
// Cursor and selection are synced across charts by uPlot's sync key.

import uPlot from "uplot";

import type { Value } from "./buffer";
import { fmtValue } from "./format";
import { cssVar } from "./theme";
import { fmtTicks, timeZoneMode } from "./time";
import type { SeriesStyle } from "./types";

const SYNC_KEY = "bioreactor";
const Y_AXIS_SIZE = 64;

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

export class SeriesChart {
  readonly panel: HTMLElement;
  readonly plot: HTMLDivElement;
  private readonly overlay: HTMLDivElement;
  private readonly progress: HTMLDivElement;
  private u: uPlot | null = null;
  private data: uPlot.AlignedData = [[], []];
  /** Indices of out-of-limit samples with in-limit neighbours (drawn as dots). */
  private isolated: number[] = [];
  private hasData = false;
  private min = 0;
  private max = 1;
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
    this.overlay.setAttribute("role", "status");
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

  /** Builds (or rebuilds, after a theme or zone change) the uPlot instance. */
  build(): void {
    this.u?.destroy();
    const { width, height } = this.size();
    const s = this.series;
    const text = cssVar("--chart-text");
    const grid = cssVar("--chart-grid");
    const danger = cssVar("--danger");
    const hasLimits = s.low !== null || s.high !== null;
    const utc = timeZoneMode() === "utc";
    const label = axisLabel(s.name, s.unit, height);
    // Canvas text follows the page's scale (larger on control-room screens).
    const px = Number.parseFloat(cssVar("--chart-font-size")) || 11;
    const family = cssVar("--font-ui") || "system-ui, sans-serif";
    const font = `${px}px ${family}`;
    const labelFont = `600 ${px}px ${family}`;
    const yAxisSize = Math.round((Y_AXIS_SIZE * px) / 11);

    const series: uPlot.Series[] = [
      {},
      {
        label,
        stroke: s.color,
        width: 1.5,
        // No area fill under limit zones: the tints would mix into mud.
        fill: hasLimits ? undefined : withAlpha(s.color, 0.08),
        spanGaps: false,
        points: { size: 4, width: 1 },
        value: (_u, v) => fmtValue(v),
      },
    ];
    if (hasLimits) {
      // Out-of-limit stretches redrawn in red over the trace; a lone outlier gets a dot.
      series.push({
        label: "outside limits",
        stroke: danger,
        width: 2,
        spanGaps: false,
        points: { show: false, size: 5, stroke: danger, fill: danger, width: 1, filter: () => this.isolated },
      });
    }

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
        bind: {
          mousedown: (u, _targ, handler) => (e: MouseEvent) => {
            if (e.shiftKey || e.button === 1) {
              this.startPan(u, e);
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
        y: { auto: true, range: (_u, lo, hi) => yRange(lo, hi, s.low, s.high) },
      },
      series,
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
          size: yAxisSize,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          space: 28,
          values: (u, ticks) => {
            if (!this.hasData) return ticks.map(() => ""); // no meaningless 0–1 scale on empty charts
            const sc = u.scales["y"]!;
            // With a single tick the step is unknown: derive it from the scale's span.
            const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : ((sc.max ?? 1) - (sc.min ?? 0)) / 4;
            // Enough decimals to show the step exactly (2.5 must not print as 3).
            let dec = 0;
            while (dec < 6 && Math.abs(Math.round(step * 10 ** dec) - step * 10 ** dec) > 1e-6 * 10 ** dec) dec++;
            return ticks.map((t) => t.toFixed(dec));
          },
        },
      ],
      hooks: {
        drawAxes: [(u) => this.drawLimits(u, danger)],
        setSelect: [(u) => this.onSelect(u)],
        setCursor: [(u) => this.onCursor(u)],
      },
    };
    this.u = new uPlot(opts, this.data, this.plot);
    this.plot.prepend(this.u.root);
    this.u.over.addEventListener("mouseleave", () => this.events.hover(this, null, 0, 0));
  }

  destroy(): void {
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
    this.min = min;
    this.max = max;
    this.u?.setScale("x", { min, max });
  }

  /** Replaces the drawn data (already gap-broken by the caller). */
  setData(t: number[], v: Value[]): void {
    const { low, high } = this.series;
    let data: uPlot.AlignedData = [t, v];
    this.isolated = [];
    if (low !== null || high !== null) {
      const out = v.map((x) => (x !== null && isOutside(x, low, high) ? x : null));
      for (let i = 0; i < out.length; i++) {
        if (out[i] !== null && (i === 0 || out[i - 1] === null) && (i === out.length - 1 || out[i + 1] === null)) this.isolated.push(i);
      }
      data = [t, v, out];
    }
    this.data = data;
    this.hasData = v.some((x) => x !== null);
    this.u?.setData(data, true);
  }

  setOverlay(o: Overlay): void {
    this.overlay.className = `plot-overlay${o ? ` is-${o.kind}` : ""}`;
    this.overlay.textContent = o ? o.text : "";
    this.overlay.hidden = !o;
  }

  /** A thin bar while newer data for the window is being fetched (data stays visible). */
  setBusy(busy: boolean): void {
    this.progress.classList.toggle("is-active", busy);
  }

  clearSelect(): void {
    this.u?.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
  }

  /** Left offset and width (CSS px) of the plotting area inside the panel's plot box. */
  plotBox(): { left: number; top: number; width: number; height: number } | null {
    if (!this.u) return null;
    const r = this.u.over.getBoundingClientRect();
    const p = this.plot.getBoundingClientRect();
    return { left: r.left - p.left, top: r.top - p.top, width: r.width, height: r.height };
  }

  private size(): { width: number; height: number } {
    return {
      width: Math.max(240, Math.floor(this.plot.clientWidth)),
      height: Math.max(100, Math.floor(this.plot.clientHeight)),
    };
  }

  private fit(): void {
    if (!this.u) return;
    const { width, height } = this.size();
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

  private startPan(u: uPlot, e: MouseEvent): void {
    const x0 = e.clientX;
    const min0 = this.min;
    const span = this.max - this.min;
    const width = u.over.clientWidth || 1;
    let last: [number, number] | null = null;
    u.over.style.cursor = "grabbing";
    const move = (ev: MouseEvent) => {
      const dt = Math.round(((x0 - ev.clientX) / width) * span);
      last = [min0 + dt, min0 + dt + span];
      this.events.pan(last[0], last[1], false);
    };
    const up = () => {
      document.removeEventListener("mousemove", move);
      document.removeEventListener("mouseup", up);
      u.over.style.cursor = "";
      if (last) this.events.pan(last[0], last[1], true);
    };
    document.addEventListener("mousemove", move);
    document.addEventListener("mouseup", up);
  }

  private drawLimits(u: uPlot, danger: string): void {
    const { low, high } = this.series;
    if (low === null && high === null) return;
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.fillStyle = withAlpha(danger, 0.07);
    ctx.strokeStyle = withAlpha(danger, 0.7);
    ctx.lineWidth = uPlot.pxRatio;
    ctx.setLineDash([5 * uPlot.pxRatio, 4 * uPlot.pxRatio]);
    // Shade the zones beyond each limit and draw the limit itself dashed.
    if (high !== null) {
      const y = u.valToPos(high, "y", true);
      if (y > top) ctx.fillRect(left, top, width, Math.min(y, top + height) - top);
      line(ctx, left, width, y);
    }
    if (low !== null) {
      const y = u.valToPos(low, "y", true);
      if (y < top + height) ctx.fillRect(left, Math.max(y, top), width, top + height - Math.max(y, top));
      line(ctx, left, width, y);
    }
    ctx.restore();
  }
}

/** "Name (unit)" for the y axis, shortened to initials ("DO (%)") when the plot is too short for it. */
function axisLabel(name: string, unit: string, height: number): string {
  const full = unit ? `${name} (${unit})` : name;
  const room = (height - 50) / 6.5; // ~6.5 px per character at 11 px
  if (full.length <= room) return full;
  const words = name.split(/\s+/);
  const short = words.length > 1 ? words.map((w) => w[0]!.toUpperCase()).join("") : name.length > 6 ? `${name.slice(0, 4)}.` : name;
  return unit ? `${short} (${unit})` : short;
}

function line(ctx: CanvasRenderingContext2D, left: number, width: number, y: number): void {
  ctx.beginPath();
  ctx.moveTo(left, y);
  ctx.lineTo(left + width, y);
  ctx.stroke();
}

export function isOutside(v: number, low: number | null, high: number | null): boolean {
  return (low !== null && v < low) || (high !== null && v > high);
}

/** Y range from the data, padded; a limit close to the data is pulled into view. */
function yRange(lo: number | null, hi: number | null, low: number | null, high: number | null): uPlot.Range.MinMax {
  if (lo === null || hi === null || !Number.isFinite(lo) || !Number.isFinite(hi)) {
    const l = low ?? high;
    const h = high ?? low;
    return l !== null && h !== null ? [l - 1, h + 1] : [0, 1];
  }
  let span = hi - lo;
  if (span === 0) span = Math.abs(hi) * 0.01 || 1;
  // Include a limit when it is within one data span of the data: it shows
  // how close the process runs to it without flattening the trace.
  if (high !== null && high > hi && high - hi < span) hi = high;
  if (low !== null && low < lo && lo - low < span) lo = low;
  span = hi - lo || span;
  const pad = span * 0.08;
  return [lo - pad, hi + pad];
}

/** `#rrggbb` or `rgb()` → rgba with alpha (canvas fills need a real color). */
export function withAlpha(color: string, alpha: number): string {
  const c = color.trim();
  const hex = /^#([0-9a-f]{6})$/i.exec(c);
  if (hex) {
    const n = parseInt(hex[1]!, 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^)]+)\)$/i.exec(c);
  if (rgb) {
    const [r, g, b] = rgb[1]!.split(/[ ,/]+/);
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  return c;
}
