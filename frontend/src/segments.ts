// What the historian recorded, as lines and readings: the arrays uPlot draws
// (broken only at real outages, the value in force carried in from the left
// edge) and the value in force at a cursor time. No DOM: unit-tested.

import { upperBound, type Gap, type Sample, type Value } from "./buffer";
import { limitState } from "./freshness";

/** What is held of one series (a SeriesBuffer, or plain arrays in tests). */
export interface Held {
  readonly t: readonly number[];
  readonly v: readonly Value[];
  /** Real outages, sorted; each one's ends are held rows (or `before`). */
  readonly gaps: readonly Gap[];
  /** The last sample before the first held row. */
  readonly before: Sample | null;
}

export interface Drawn {
  x: number[];
  y: Value[];
  /** Samples with no neighbour to draw a line to (between two outages): drawn as dots. */
  isolated: number[];
  /** Index of the point that carries the last value forward (not a sample), or -1. */
  held: number;
}

/**
 * uPlot's arrays for one series: `before` first (so a step line starts at
 * the window's left edge with the value in force there), a null inside
 * every outage (so the line breaks there and nowhere else), and, when
 * `holdUntil` is given, the last value carried to it (a step series holds
 * its value until the next sample; the caller bounds it by the outage
 * threshold).
 */
export function drawnData(h: Held, holdUntil: number | null = null): Drawn {
  const x: number[] = [];
  const y: Value[] = [];
  const { gaps } = h;
  let g = 0;
  const push = (t: number, v: Value) => {
    const n = x.length;
    if (n) {
      const a = x[n - 1]!;
      while (g < gaps.length && gaps[g]![1] <= a) g++;
      // An outage ending between the previous sample and this one breaks the line.
      if (g < gaps.length && a < t && gaps[g]![1] <= t) {
        x.push(a + (t - a) / 2);
        y.push(null);
        g++;
      }
    }
    x.push(t);
    y.push(v);
  };
  const first = h.t.length ? h.t[0]! : Infinity;
  if (h.before && h.before.t < first) push(h.before.t, h.before.v);
  for (let i = 0; i < h.t.length; i++) push(h.t[i]!, h.v[i] ?? null);
  const n = x.length;
  let held = -1;
  if (holdUntil !== null && n && y[n - 1] !== null && holdUntil > x[n - 1]!) {
    held = x.push(holdUntil) - 1;
    y.push(y[n - 1]!);
  }
  const isolated: number[] = [];
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== null && (i === 0 || y[i - 1] === null) && (i === y.length - 1 || y[i + 1] === null)) isolated.push(i);
  }
  return { x, y, isolated, held };
}

export type Reading =
  /** `exact`: a sample lies at the cursor instant (within `exactMs`); otherwise the last one before it. */
  | { kind: "value"; t: number; v: Value; exact: boolean }
  /** The cursor is inside a real outage; `to` null: no sample since `from` (yet). */
  | { kind: "outage"; from: number; to: number | null }
  /** Nothing held there (before the first sample, or a range not loaded). */
  | { kind: "none" };

export interface ReadingContext {
  /** A sample this close to the cursor (about a pixel) is at the cursor. */
  exactMs: number;
  /** A silence longer than this after the newest sample is an outage still going on. */
  gapMs: number | null;
  /** Whether the held rows reach the newest row (so a silence after them is real). */
  following: boolean;
  /** The held range: outside it nothing can be said. */
  from: number;
  to: number;
}

/** The value in force at time x: the last sample at or before it, with its own time; or the outage x is in. */
export function readingAt(h: Held, x: number, c: ReadingContext): Reading {
  if (x < c.from - c.exactMs && !(h.before && h.before.t <= x) && !(h.t.length && h.t[0]! <= x)) return { kind: "none" };
  if (x > c.to + c.exactMs) return { kind: "none" };
  const { t, v } = h;
  // A sample at the cursor instant: the nearest within exactMs (the last of equal times).
  const after = upperBound(t, x + c.exactMs) - 1;
  if (after >= 0 && Math.abs(t[after]! - x) <= c.exactMs) {
    let best = after;
    for (let i = after - 1; i >= 0 && x - t[i]! <= c.exactMs; i--) {
      if (Math.abs(t[i]! - x) < Math.abs(t[best]! - x)) best = i;
    }
    const bt = t[best]!;
    while (best + 1 < t.length && t[best + 1] === bt) best++;
    return { kind: "value", t: bt, v: v[best] ?? null, exact: true };
  }
  const gap = outageAt(h.gaps, x);
  if (gap) return { kind: "outage", from: gap[0], to: gap[1] };
  const i = upperBound(t, x) - 1;
  const s: Sample | null = i >= 0 ? { t: t[i]!, v: v[i] ?? null } : h.before && h.before.t <= x ? h.before : null;
  if (!s) return { kind: "none" };
  const newest = i === t.length - 1;
  if (newest && c.following && c.gapMs !== null && x - s.t > c.gapMs) return { kind: "outage", from: s.t, to: null };
  return { kind: "value", t: s.t, v: s.v, exact: false };
}

/** The outage containing x (strictly inside), if any. */
export function outageAt(gaps: readonly Gap[], x: number): Gap | null {
  // Gaps are sorted and disjoint: the first ending after x is the only candidate.
  let lo = 0;
  let hi = gaps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (gaps[mid]![1] <= x) lo = mid + 1;
    else hi = mid;
  }
  const g = gaps[lo];
  return g && g[0] < x ? g : null;
}

/** The drawn point uPlot's hover dot marks at xValue: a sample within exactMs, else the one in force; inside an outage its break (a null: no dot). */
export function inForceIndex(d: Drawn, closest: number, xValue: number, exactMs: number): number {
  const { x, y } = d;
  if (closest >= 0 && Math.abs(x[closest]! - xValue) <= exactMs) return closest;
  const i = upperBound(x, xValue) - 1;
  if (i < 0) return closest;
  return i + 1 < y.length && y[i + 1] === null ? i + 1 : i;
}

/** Indices of real samples in [min, max] and one either side (not the value carried forward). */
export function sampleIndices(d: Drawn, min: number, max: number): number[] {
  const { x, y, held } = d;
  const i0 = Math.max(0, upperBound(x, min) - 1);
  const i1 = Math.min(x.length, upperBound(x, max) + 1);
  const out: number[] = [];
  for (let i = i0; i < i1; i++) if (i !== held && y[i] !== null) out.push(i);
  return out;
}

/**
 * Out-of-limit samples in view, each marked with an alarm dot; past a few
 * hundred, only those with no line to show them (the red trace says it).
 */
export function alarmIndices(d: Drawn, min: number, max: number, low: number | null, high: number | null): number[] {
  if (low === null && high === null) return [];
  const out = sampleIndices(d, min, max).filter((i) => limitState(d.y[i], low, high) !== null);
  return out.length <= 300 ? out : out.filter((i) => d.isolated.includes(i));
}
