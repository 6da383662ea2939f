// What a chart draws besides the trace itself, on uPlot's canvas: limit
// zones and lines (with an edge marker when a limit is off the y range),
// the trace redrawn in the alarm colour where it is beyond a limit, faint
// outage spans, and markers for samples clipped at the top or bottom edge.

import uPlot from "uplot";

import type { Gap, Value } from "./buffer";
import { withAlpha } from "./color";
import { fmtValue } from "./format";

export interface Palette {
  series: string;
  alarm: string;
  surface: string;
  text: string;
  font: string;
}

interface Limits {
  low: number | null;
  high: number | null;
}

/** Canvas px of a y value, clamped a little outside the plot so huge values do not overflow. */
function yPx(u: uPlot, v: number): number {
  const { top, height } = u.bbox;
  return Math.max(top - 10, Math.min(top + height + 10, u.valToPos(v, "y", true)));
}

function clipToPlot(u: uPlot): void {
  const { left, top, width, height } = u.bbox;
  u.ctx.beginPath();
  u.ctx.rect(left, top, width, height);
  u.ctx.clip();
}

/** Tinted zones beyond each limit and the limits as dashed lines, labelled; under the trace. */
export function drawLimitZones(u: uPlot, lim: Limits, p: Palette): void {
  const { low, high } = lim;
  if (low === null && high === null) return;
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  const r = uPlot.pxRatio;
  ctx.save();
  clipToPlot(u);
  ctx.fillStyle = withAlpha(p.alarm, 0.1);
  if (high !== null) {
    const y = yPx(u, high);
    if (y > top) ctx.fillRect(left, top, width, Math.min(y, top + height) - top);
  }
  if (low !== null) {
    const y = yPx(u, low);
    if (y < top + height) ctx.fillRect(left, Math.max(y, top), width, top + height - Math.max(y, top));
  }
  ctx.strokeStyle = p.alarm;
  ctx.lineWidth = 1.25 * r;
  ctx.setLineDash([6 * r, 4 * r]);
  for (const v of [high, low]) {
    if (v === null) continue;
    const y = yPx(u, v);
    if (y < top || y > top + height) continue;
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
  }
  ctx.restore();
}

/**
 * Limit labels at the left end of each line (the right end holds the newest
 * data), or at the edge (with an arrow) when the limit is off the range.
 * Returns the labels drawn.
 */
export function drawLimitLabels(u: uPlot, lim: Limits, p: Palette): string[] {
  const { ctx } = u;
  const { left, top, height } = u.bbox;
  const r = uPlot.pxRatio;
  const sc = u.scales["y"]!;
  const drawn: string[] = [];
  if (sc.min == null || sc.max == null) return drawn;
  ctx.save();
  ctx.font = p.font;
  ctx.textAlign = "left";
  const pad = 3 * r;
  const label = (text: string, y: number, above: boolean) => {
    drawn.push(text);
    const w = ctx.measureText(text).width + 2 * pad;
    const h = 15 * r;
    const yTop = Math.max(top, Math.min(top + height - h, above ? y - h - r : y + r));
    ctx.fillStyle = withAlpha(p.surface, 0.75);
    ctx.fillRect(left + 2 * r, yTop, w, h);
    ctx.fillStyle = p.alarm;
    ctx.textBaseline = "middle";
    ctx.fillText(text, left + 2 * r + pad, yTop + h / 2);
  };
  const entries: [string, number | null, boolean][] = [
    ["high", lim.high, true],
    ["low", lim.low, false],
  ];
  for (const [name, v, isHigh] of entries) {
    if (v === null) continue;
    if (v > sc.max) label(`▲ ${name} limit ${fmtValue(v)} (off scale)`, top, false);
    else if (v < sc.min) label(`▼ ${name} limit ${fmtValue(v)} (off scale)`, top + height, true);
    else label(`${name} ${fmtValue(v)}`, u.valToPos(v, "y", true), isHigh);
  }
  ctx.restore();
  return drawn;
}

interface WithPaths {
  _paths?: uPlot.Series.Paths | null;
}

/** Redraws the trace in the alarm colour where it lies beyond a limit (exact at the crossing, step or line). */
export function drawAlarmTrace(u: uPlot, lim: Limits, p: Palette): void {
  const { low, high } = lim;
  const paths = (u.series[1] as uPlot.Series & WithPaths)._paths;
  if ((low === null && high === null) || !paths || !(paths.stroke instanceof Path2D)) return;
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  const zones = new Path2D();
  if (high !== null) {
    const y = yPx(u, high);
    if (y > top) zones.rect(left, top - 10, width, y - top + 10);
  }
  if (low !== null) {
    const y = yPx(u, low);
    if (y < top + height) zones.rect(left, y, width, top + height + 10 - y);
  }
  ctx.save();
  clipToPlot(u);
  ctx.clip(zones);
  if (paths.clip) ctx.clip(paths.clip);
  ctx.strokeStyle = p.alarm;
  ctx.lineWidth = 2.5 * uPlot.pxRatio;
  ctx.lineJoin = "round";
  ctx.stroke(paths.stroke);
  ctx.restore();
}

/** Faint spans over real outages, labelled "no data" where wide enough: a break is not a glitch. */
export function drawOutages(u: uPlot, gaps: readonly Gap[], p: Palette): void {
  const sc = u.scales["x"]!;
  if (!gaps.length || sc.min == null || sc.max == null) return;
  const { ctx } = u;
  const { top, height } = u.bbox;
  const r = uPlot.pxRatio;
  ctx.save();
  clipToPlot(u);
  ctx.font = p.font;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (const [a, b] of gaps) {
    if (b < sc.min || a > sc.max) continue;
    const x0 = u.valToPos(a, "x", true);
    const x1 = u.valToPos(b, "x", true);
    ctx.fillStyle = withAlpha(p.text, 0.07);
    ctx.fillRect(x0, top, x1 - x0, height);
    if (x1 - x0 > 60 * r) {
      ctx.fillStyle = withAlpha(p.text, 0.75);
      ctx.fillText("no data", (x0 + x1) / 2, top + height / 2);
    }
  }
  ctx.restore();
}

/**
 * Triangles at the top or bottom edge for samples outside the y range (a
 * clipped glitch stays visible), and alarm dots on out-of-limit samples.
 * Returns how many edge markers were drawn.
 */
export function drawMarkers(u: uPlot, clipped: readonly number[], alarms: readonly number[], lim: Limits, p: Palette): number {
  const { ctx } = u;
  const { top, height } = u.bbox;
  const r = uPlot.pxRatio;
  const xs = u.data[0];
  const ys = u.data[1] as Value[];
  const sc = u.scales["y"]!;
  if (sc.min == null || sc.max == null) return 0;
  const outside = (v: number) => (lim.high !== null && v > lim.high) || (lim.low !== null && v < lim.low);
  const marks: { x: number; v: number; up: boolean }[] = [];
  let lastKey = "";
  for (const i of clipped) {
    const v = ys[i];
    if (v === null || v === undefined) continue;
    const x = Math.round(u.valToPos(xs[i]!, "x", true));
    const up = v > sc.max;
    const key = `${Math.round(x / (6 * r))}:${up}`;
    if (key === lastKey) continue; // one marker per few pixels
    lastKey = key;
    marks.push({ x, v, up });
  }
  ctx.save();
  ctx.lineWidth = 1.5 * r;
  ctx.strokeStyle = p.surface;
  ctx.font = p.font;
  ctx.textBaseline = "middle";
  const s = 6 * r;
  for (const { x, v, up } of marks) {
    const y = up ? top + 1 * r : top + height - 1 * r;
    const tip = up ? y + 1.5 * s : y - 1.5 * s;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x - s, tip);
    ctx.lineTo(x + s, tip);
    ctx.closePath();
    const color = outside(v) ? p.alarm : p.series;
    ctx.fillStyle = color;
    ctx.fill();
    ctx.stroke();
    // A few markers say what they clip ("0.000"): a glitch reads as one at a glance.
    if (marks.length <= 4) {
      const text = fmtValue(v);
      const w = ctx.measureText(text).width;
      const tx = x + s + 3 * r + w > u.bbox.left + u.bbox.width ? x - s - 3 * r - w : x + s + 3 * r;
      const ty = (y + tip) / 2;
      ctx.fillStyle = withAlpha(p.surface, 0.8);
      ctx.fillRect(tx - 2 * r, ty - 7 * r, w + 4 * r, 14 * r);
      ctx.fillStyle = color;
      ctx.textAlign = "left";
      ctx.fillText(text, tx, ty);
    }
  }
  ctx.fillStyle = p.alarm;
  for (const i of alarms) {
    const v = ys[i];
    if (v === null || v === undefined || !outside(v) || v > sc.max || v < sc.min) continue;
    ctx.beginPath();
    ctx.arc(u.valToPos(xs[i]!, "x", true), u.valToPos(v, "y", true), 3.5 * r, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }
  ctx.restore();
  return marks.length;
}
