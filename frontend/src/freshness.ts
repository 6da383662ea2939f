// Whether the page shows live data or an old run, and what the browser tab
// must warn about even in the background. No DOM: unit-tested.

import type { Value } from "./buffer";
import { fmtValue } from "./format";
import { fmtAge } from "./time";
import type { SeriesState } from "./types";

/** What the header and the tab title need to know of one series. */
export interface SeriesNow {
  name: string;
  state: SeriesState;
  /** Time of its newest row, or null when none is known. */
  latestT: number | null;
  latestV: Value | undefined;
  /** The series' stale threshold from /api/series; null until known. */
  staleAfterMs: number | null;
  low: number | null;
  high: number | null;
}

export type DataState =
  /** At least one series' newest row is younger than its stale threshold: rows are arriving. */
  | { kind: "live"; newest: number }
  /** Rows exist, but none is recent: a finished or old run, or a plant that stopped writing. */
  | { kind: "historical"; newest: number }
  /** Thresholds not known yet, or no row at all. */
  | { kind: "unknown"; newest: number | null };

export function isStale(s: SeriesNow, now: number): boolean {
  return s.latestT !== null && s.staleAfterMs !== null && now - s.latestT > s.staleAfterMs;
}

export function dataState(series: readonly SeriesNow[], now: number): DataState {
  const times = series.map((s) => s.latestT).filter((t): t is number => t !== null);
  if (!times.length) return { kind: "unknown", newest: null };
  const newest = Math.max(...times);
  if (series.some((s) => s.latestT !== null && s.staleAfterMs !== null && !isStale(s, now))) return { kind: "live", newest };
  if (series.some((s) => s.latestT !== null && s.staleAfterMs === null)) return { kind: "unknown", newest };
  return { kind: "historical", newest };
}

export type LimitState = "below" | "above" | null;

export function limitState(v: Value | undefined, low: number | null, high: number | null): LimitState {
  if (typeof v !== "number") return null;
  if (low !== null && v < low) return "below";
  if (high !== null && v > high) return "above";
  return null;
}

/**
 * What a background tab must say: out-of-limit values first, then stale
 * series, then series that cannot be read. When every series is stale the
 * age of the newest row says it in one phrase.
 */
export function warnings(series: readonly SeriesNow[], now: number): string[] {
  const out: string[] = [];
  for (const s of series) {
    const lim = limitState(s.latestV, s.low, s.high);
    if (lim) out.push(`${s.name} ${lim === "above" ? "above high" : "below low"} limit (${fmtValue(s.latestV as number)})`);
  }
  const withData = series.filter((s) => s.latestT !== null);
  const stale = withData.filter((s) => isStale(s, now));
  if (stale.length > 1 && stale.length === withData.length) {
    const newest = Math.max(...withData.map((s) => s.latestT!));
    out.push(`No new data for ${fmtAge(now - newest).replace(" ago", "")}`);
  } else for (const s of stale) out.push(`${s.name} stale`);
  for (const s of series) {
    if (s.state === "missing") out.push(`${s.name} table not found`);
    else if (s.state === "error" && s.latestT === null) out.push(`${s.name} unavailable`);
  }
  return out;
}

export const BASE_TITLE = "Bioreactor · Process dashboard";

export function pageTitle(warn: readonly string[]): string {
  return warn.length ? `⚠ ${warn.join(", ")} · Bioreactor` : BASE_TITLE;
}
