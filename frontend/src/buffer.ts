// Per-series columnar buffer: sorted time/value arrays (uPlot's data shape)
// plus the bookkeeping of the WebSocket protocol (seq numbers, and a queue of
// appends that arrive while a REST reload of the window is in flight).

export type Value = number | null;

export interface Batch {
  t: readonly number[];
  v: readonly Value[];
  seq: number;
  /** The first batch after a subscribe: every row newer than the client's `since`. */
  replay?: boolean;
}

export type AppendResult = "applied" | "duplicate" | "queued";

/** First index i with arr[i] >= x (arr sorted ascending). */
export function lowerBound(arr: readonly number[], x: number, lo = 0, hi = arr.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with arr[i] > x (arr sorted ascending). */
export function upperBound(arr: readonly number[], x: number, lo = 0, hi = arr.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SeriesBuffer {
  t: number[] = [];
  v: Value[] = [];
  /** Store batch counter of the newest data held; -1 before any snapshot. */
  seq = -1;
  /** Appends held back while a REST snapshot is loading; null when not loading. */
  private pending: Batch[] | null = null;

  get length(): number {
    return this.t.length;
  }

  get lastT(): number | null {
    return this.t.length ? this.t[this.t.length - 1]! : null;
  }

  get firstT(): number | null {
    return this.t.length ? this.t[0]! : null;
  }

  get reloading(): boolean {
    return this.pending !== null;
  }

  /**
   * Merge rows sorted by time into the buffer, in place. Rows whose time
   * equals an existing row's are distinct rows (duplicate timestamps are
   * real in the historian), so they go after the existing ones: arrival order.
   */
  merge(t: readonly number[], v: readonly Value[]): void {
    const n = t.length;
    if (n === 0) return;
    const last = this.lastT;
    if (last === null || t[0]! >= last) {
      // Fast path: a live batch that is newer than everything held.
      for (let i = 0; i < n; i++) {
        this.t.push(t[i]!);
        this.v.push(v[i] ?? null);
      }
      return;
    }
    // Late rows: rebuild only the tail from the first insertion point on.
    const from = upperBound(this.t, t[0]!);
    const oldT = this.t.splice(from);
    const oldV = this.v.splice(from);
    let i = 0;
    let j = 0;
    while (i < oldT.length && j < n) {
      if (oldT[i]! <= t[j]!) {
        this.t.push(oldT[i]!);
        this.v.push(oldV[i]!);
        i++;
      } else {
        this.t.push(t[j]!);
        this.v.push(v[j] ?? null);
        j++;
      }
    }
    for (; i < oldT.length; i++) {
      this.t.push(oldT[i]!);
      this.v.push(oldV[i]!);
    }
    for (; j < n; j++) {
      this.t.push(t[j]!);
      this.v.push(v[j] ?? null);
    }
  }

  /**
   * Apply a WebSocket append. A live batch whose seq is not above the held
   * seq is already part of what we hold (it was in a snapshot): dropped.
   *
   * A replay holds only rows newer than the `since` we subscribed with, which
   * is our newest row, so it never duplicates what we hold: it is merged
   * whatever its seq, and its seq becomes ours. That matters after a server
   * restart, whose counters start again and cannot be compared with ours.
   */
  append(batch: Batch): AppendResult {
    if (this.pending) {
      this.pending.push(batch);
      return "queued";
    }
    if (batch.replay) {
      this.merge(batch.t, batch.v);
      this.seq = batch.seq;
      return "applied";
    }
    if (batch.seq <= this.seq) return "duplicate";
    this.merge(batch.t, batch.v);
    this.seq = batch.seq;
    return "applied";
  }

  /** Start a REST reload: appends are queued until finishReload/cancelReload. */
  beginReload(): void {
    if (!this.pending) this.pending = [];
  }

  /** Replace the contents with a snapshot taken at `seq`, then apply queued appends newer than it. */
  finishReload(t: readonly number[], v: readonly Value[], seq: number): void {
    const queued = this.pending ?? [];
    this.pending = null;
    this.t = Array.from(t);
    this.v = Array.from(v, (x) => x ?? null);
    this.seq = seq;
    for (const b of queued) {
      if (b.replay) this.applyReplayAfterSnapshot(b);
      else this.append(b);
    }
  }

  /**
   * A replay that arrived during a reload holds every row newer than our old
   * `since`, and the snapshot already has those of them up to its own seq.
   * If the replay is not newer than the snapshot it adds nothing; if it is,
   * only its rows newer than the snapshot's newest can be missing.
   */
  private applyReplayAfterSnapshot(b: Batch): void {
    if (b.seq <= this.seq) return;
    const last = this.lastT;
    const from = last === null ? 0 : upperBound(b.t, last);
    this.merge(b.t.slice(from), b.v.slice(from));
    this.seq = b.seq;
  }

  /** The reload failed: keep what we had and apply the queued appends. */
  cancelReload(): void {
    const queued = this.pending ?? [];
    this.pending = null;
    for (const b of queued) this.append(b);
  }

  /** Keep only rows with min <= t <= max. */
  trim(min: number, max: number): void {
    const hi = upperBound(this.t, max);
    if (hi < this.t.length) {
      this.t.length = hi;
      this.v.length = hi;
    }
    const lo = lowerBound(this.t, min);
    if (lo > 0) {
      this.t.splice(0, lo);
      this.v.splice(0, lo);
    }
  }

  /** Index range [i0, i1) of rows within [min, max]. */
  range(min: number, max: number): [number, number] {
    return [lowerBound(this.t, min), upperBound(this.t, max)];
  }

  /** The row nearest to time x, or -1 when empty. */
  nearest(x: number): number {
    const n = this.t.length;
    if (!n) return -1;
    const i = lowerBound(this.t, x);
    if (i === 0) return 0;
    if (i >= n) return n - 1;
    return x - this.t[i - 1]! <= this.t[i]! - x ? i - 1 : i;
  }
}

/** Median spacing of sorted times (sampled for long arrays), or null with < 2 rows. */
export function medianInterval(t: readonly number[], maxSamples = 2001): number | null {
  const n = t.length;
  if (n < 2) return null;
  const step = Math.max(1, Math.floor((n - 1) / maxSamples));
  const diffs: number[] = [];
  for (let i = step; i < n; i += step) diffs.push(t[i]! - t[i - step]!);
  diffs.sort((a, b) => a - b);
  return diffs[diffs.length >> 1]! / step;
}

/**
 * The spacing above which two consecutive points are drawn as a break.
 * `intervalMs` is the typical raw sampling interval; `bucketMs` is the width
 * of one pixel column when the server downsampled (M4), where consecutive
 * points are legitimately one bucket apart.
 */
export function gapThreshold(intervalMs: number | null, bucketMs = 0, factor = 5): number {
  const base = intervalMs && intervalMs > 0 ? intervalMs * factor : 30_000;
  return Math.max(base, bucketMs * 2.5, 1);
}

/**
 * Returns arrays for uPlot with a null inserted inside every gap longer than
 * maxGapMs, so the line breaks instead of bridging an outage. Returns the
 * input arrays untouched when there is no gap (no copy on the common path).
 */
export function withGaps(
  t: number[],
  v: Value[],
  maxGapMs: number,
): { t: number[]; v: Value[]; gaps: number } {
  let first = -1;
  for (let i = 1; i < t.length; i++) {
    if (t[i]! - t[i - 1]! > maxGapMs) {
      first = i;
      break;
    }
  }
  if (first < 0) return { t, v, gaps: 0 };
  const outT = t.slice(0, first);
  const outV = v.slice(0, first);
  let gaps = 0;
  for (let i = first; i < t.length; i++) {
    const prev = t[i - 1]!;
    if (t[i]! - prev > maxGapMs) {
      outT.push(prev + (t[i]! - prev) / 2);
      outV.push(null);
      gaps++;
    }
    outT.push(t[i]!);
    outV.push(v[i]!);
  }
  return { t: outT, v: outV, gaps };
}
