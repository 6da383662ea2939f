// The y axis: readable ticks (at least three where the plot is tall enough,
// decimals from the tick step, never more) and an automatic range that one
// stray sample cannot wreck. No DOM: unit-tested.

import type { Value } from "./buffer";

export interface Ticks {
  ticks: number[];
  step: number;
  /** Decimals that print every tick exactly, and no more. */
  decimals: number;
}

const MANTISSAS = [1, 2, 2.5, 5];

/** Decimals needed to print multiples of step = m × 10^k exactly. */
export function stepDecimals(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  for (let d = 0; d <= 12; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 12;
}

function count(min: number, max: number, step: number): number {
  const eps = 1e-9;
  return Math.floor(max / step + eps) - Math.ceil(min / step - eps) + 1;
}

/**
 * Ticks for [min, max] on an axis `lengthPx` long. Prefers ticks at least
 * `preferPx` apart; when that leaves fewer than three, takes the largest
 * step that gives three, down to `minPx` apart (labels must not overlap).
 */
export function niceTicks(min: number, max: number, lengthPx: number, preferPx = 30, minPx = 16): Ticks {
  const span = max - min;
  if (!Number.isFinite(span) || span <= 0) {
    return Number.isFinite(min) ? { ticks: [min], step: 0, decimals: 0 } : { ticks: [], step: 0, decimals: 0 };
  }
  const maxPreferred = Math.max(2, Math.floor(lengthPx / preferPx) + 1);
  const maxAllowed = Math.max(2, Math.floor(lengthPx / minPx) + 1);
  const steps: number[] = [];
  const k0 = Math.floor(Math.log10(span / maxAllowed)) - 1;
  for (let k = k0; k <= k0 + 4; k++) for (const m of MANTISSAS) steps.push(m * 10 ** k);
  let chosen = steps.find((s) => count(min, max, s) <= maxPreferred) ?? steps[steps.length - 1]!;
  // A 2.5 step costs one more decimal on every label: take 5 when that still gives three ticks.
  const mantissa = chosen / 10 ** Math.floor(Math.log10(chosen) + 1e-9);
  if (Math.abs(mantissa - 2.5) < 1e-6 && count(min, max, chosen * 2) >= 3) chosen *= 2;
  if (count(min, max, chosen) < 3) {
    const finer = [...steps].reverse().find((s) => s < chosen && count(min, max, s) >= 3 && count(min, max, s) <= maxAllowed);
    if (finer !== undefined) chosen = finer;
  }
  const decimals = stepDecimals(chosen);
  const first = Math.ceil(min / chosen - 1e-9);
  const last = Math.floor(max / chosen + 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * chosen).toFixed(decimals)));
  return { ticks, step: chosen, decimals };
}

/** A tick label: `decimals` places, and never "-0". */
export function tickLabel(v: number, decimals: number): string {
  const s = v.toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

export interface Range {
  min: number;
  max: number;
}

/** Share of the visible time each end may leave out before the rest counts as the bulk of the data. */
const TAIL = 0.01;

/**
 * The range of the values shown between start and end, robust to a stray
 * sample: each sample weighs the time its value is in force inside the
 * window (so a glitch that lasts one sample weighs nothing), the bulk is
 * the 1–99 % time quantiles, and it grows outward only through values that
 * continue it without a jump (a real excursion ramps; a glitch jumps). With
 * `keepLatest` (a live window) the newest sample is always in range: it is
 * the current value. `x`/`y` are drawn arrays (null: a break). Null when
 * nothing is visible.
 */
export function robustRange(
  x: readonly number[],
  y: readonly Value[],
  start: number,
  end: number,
  keepLatest = false,
): Range | null {
  const vals: number[] = [];
  const wts: number[] = [];
  let latest: number | null = null;
  for (let i = 0; i < x.length; i++) {
    const v = y[i];
    const t = x[i]!;
    if (v === null || v === undefined || t > end) continue;
    const next = i + 1 < x.length && y[i + 1] !== null ? x[i + 1]! : t;
    if (t < start && next <= start) continue;
    vals.push(v);
    wts.push(Math.max(0, Math.min(next, end) - Math.max(t, start)));
    latest = v;
  }
  if (!vals.length) return null;
  const order = vals.map((_, i) => i).sort((a, b) => vals[a]! - vals[b]!);
  const sorted = order.map((i) => vals[i]!);
  const total = wts.reduce((a, b) => a + b, 0);
  let lo = sorted[0]!;
  let hi = sorted[sorted.length - 1]!;
  if (total > 0 && sorted.length > 2) {
    const q = (p: number): number => {
      let acc = 0;
      for (let j = 0; j < order.length; j++) {
        acc += wts[order[j]!]!;
        if (acc >= p * total) return j;
      }
      return order.length - 1;
    };
    let a = q(TAIL);
    let b = q(1 - TAIL);
    // Grow through values that continue the bulk; stop at the first jump.
    const tol = Math.max((sorted[b]! - sorted[a]!) * 0.5, Math.abs(sorted[b]!) * 1e-9);
    while (a > 0 && sorted[a]! - sorted[a - 1]! <= tol) a--;
    while (b < sorted.length - 1 && sorted[b + 1]! - sorted[b]! <= tol) b++;
    lo = sorted[a]!;
    hi = sorted[b]!;
  }
  if (keepLatest && latest !== null) {
    lo = Math.min(lo, latest);
    hi = Math.max(hi, latest);
  }
  return { min: lo, max: hi };
}

/** The automatic y range: the data's robust range and the limits, with a margin. */
export function autoRange(data: Range | null, low: number | null, high: number | null): Range {
  let lo = Math.min(data?.min ?? Infinity, low ?? Infinity, high ?? Infinity);
  let hi = Math.max(data?.max ?? -Infinity, high ?? -Infinity, low ?? -Infinity);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { min: 0, max: 1 };
  let span = hi - lo;
  if (span === 0) span = Math.abs(hi) * 0.02 || 1;
  const pad = span * 0.08;
  lo -= pad;
  hi += pad;
  return { min: lo, max: hi };
}

/** Indices of samples drawn outside [min, max] (clipped at an edge; the chart marks them). */
export function clippedIndices(x: readonly number[], y: readonly Value[], r: Range, start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const v = y[i];
    const t = x[i]!;
    if (v === null || v === undefined || t < start || t > end) continue;
    if (v < r.min || v > r.max) out.push(i);
  }
  return out;
}
