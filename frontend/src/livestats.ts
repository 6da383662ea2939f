// Window statistics that follow live rows at once: the server's figures for
// the window, plus every row appended after the end it counted to. Rows
// that leave a sliding window on the left are only subtracted by the next
// fetch from the server, which comes within seconds. No DOM: unit-tested.

import type { Value } from "./buffer";
import type { SeriesStats } from "./types";

export interface LiveStats {
  stats: SeriesStats;
  /** Rows up to this time are counted (the server's window end, then the newest row added). */
  through: number;
}

export function fromServer(stats: SeriesStats): LiveStats {
  // No window (a series with no rows yet): every row that comes is new.
  return { stats, through: stats.end ?? -Infinity };
}

/** Adds the rows newer than what is counted, up to `windowEnd` (Infinity for a live window). */
export function addRows(ls: LiveStats, t: readonly number[], v: readonly Value[], windowEnd: number): LiveStats {
  let { count, min, max, mean, last, last_t } = ls.stats;
  let through = ls.through;
  let sum = mean !== null ? mean * count : 0;
  let changed = false;
  for (let i = 0; i < t.length; i++) {
    const ti = t[i]!;
    if (ti <= through || ti > windowEnd) continue;
    through = ti;
    changed = true;
    const x = v[i];
    if (x === null || x === undefined) continue; // NULL rows are not counted, as on the server
    count++;
    sum += x;
    min = min === null ? x : Math.min(min, x);
    max = max === null ? x : Math.max(max, x);
    last = x;
    last_t = ti;
  }
  if (!changed) return ls;
  mean = count ? sum / count : null;
  return { stats: { ...ls.stats, count, min, max, mean, last, last_t }, through };
}
