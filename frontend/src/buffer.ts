// Per-series columnar buffer: sorted time/value arrays (uPlot's data shape),
// the real outages between them, and the bookkeeping of the WebSocket
// protocol (seq numbers, the replay after a subscribe, and a queue of
// appends that arrive while a REST reload of the window is in flight).
//
// Times are epoch ms as the server sent them, fractions (µs) included: they
// are compared and sent back exactly, never rounded.

export type Value = number | null;

/** A real outage: consecutive samples at t0 and t1 further apart than the series' threshold. */
export type Gap = readonly [t0: number, t1: number];

export interface Sample {
  readonly t: number;
  readonly v: Value;
}

export interface Batch {
  t: readonly number[];
  v: readonly Value[];
  seq: number;
  /** The first batch after a subscribe: every stored row newer than the `since` we sent. */
  replay?: boolean;
}

/** A REST snapshot of a window: its rows, outages and the sample in force at its left edge. */
export interface Snapshot {
  t: readonly number[];
  v: readonly Value[];
  seq: number;
  gaps: readonly Gap[];
  before: Sample | null;
  /** The range the snapshot holds every row of; `end` Infinity when it reaches the newest row,
   * so that live appends continue it. */
  start: number;
  end: number;
}

export type AppendResult = "applied" | "duplicate" | "queued" | "ignored";

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
  /** Outages between held rows, sorted (from the server's `gaps`, and from `gapMs` for live rows). */
  gaps: Gap[] = [];
  /** The last sample before `from`: the value in force as the held range opens. */
  before: Sample | null = null;
  /** Every row of the series in [from, to] is held; to is Infinity while live rows extend it. */
  from = Infinity;
  to = -Infinity;
  /** Store batch counter of the newest data held; -1 before any snapshot. */
  seq = -1;
  /** A live row further than this after the previous one starts a new segment (the server's `gap_ms`). */
  gapMs: number | null = null;
  /** The `since` of our last subscribe, until its replay arrives. */
  private since: number | null = null;
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

  /** Live rows continue what is held (the held range reaches the newest row). */
  get following(): boolean {
    return this.to === Infinity;
  }

  /** Whether every row of [start, end] is held. */
  covers(start: number, end: number): boolean {
    return this.from <= start && this.to >= end;
  }

  /** The newest row time we hold, exactly: what a subscribe sends as `since`. */
  newestHeld(): number | null {
    return this.lastT ?? this.before?.t ?? null;
  }

  /** We subscribed with `since`: the replay that follows replaces what we hold after it. */
  expectReplay(since: number): void {
    this.since = since;
  }

  /**
   * Apply a WebSocket append. A live batch whose seq is not above the held
   * seq is already part of what we hold (it was in a snapshot): dropped.
   * A replay is authoritative above the `since` we subscribed with: rows
   * held after it (live rows that came between connecting and the replay)
   * are dropped and the replay's taken, whatever its seq (a restarted
   * server counts afresh).
   */
  append(batch: Batch): AppendResult {
    if (this.pending) {
      this.pending.push(batch);
      return "queued";
    }
    if (batch.replay) return this.takeReplay(batch);
    if (batch.seq <= this.seq) return "duplicate";
    this.seq = batch.seq;
    return this.add(batch.t, batch.v) ? "applied" : "ignored";
  }

  private takeReplay(b: Batch): AppendResult {
    const since = this.since;
    this.since = null;
    const dropped = since !== null && this.dropAfter(since);
    this.seq = b.seq;
    const added = this.add(b.t, b.v);
    // A replay with nothing new (the usual one, just after a load) needs no redraw of the chart.
    return dropped || added ? "applied" : "ignored";
  }

  /** Start a REST reload: appends are queued until finishReload/cancelReload. */
  beginReload(): void {
    if (!this.pending) this.pending = [];
  }

  /** Replace the contents with a snapshot, then apply the queued appends newer than it. */
  finishReload(s: Snapshot): void {
    const queued = this.pending ?? [];
    this.pending = null;
    this.t = Array.from(s.t);
    this.v = Array.from(s.v, (x) => x ?? null);
    this.gaps = s.gaps.map(([a, b]) => [a, b] as const);
    this.before = s.before;
    this.from = s.start;
    this.to = s.end;
    this.seq = s.seq;
    for (const b of queued) {
      // A replay not newer than the snapshot adds nothing to it.
      if (b.replay && b.seq <= this.seq) this.since = null;
      else this.append(b);
    }
  }

  /** The reload failed: keep what we had and apply the queued appends. */
  cancelReload(): void {
    const queued = this.pending ?? [];
    this.pending = null;
    for (const b of queued) this.append(b);
  }

  /** Drops the rows before x (a live window slid past them); the last one dropped becomes `before`. */
  trimBefore(x: number): void {
    const i = lowerBound(this.t, x);
    if (i === 0) return;
    this.before = { t: this.t[i - 1]!, v: this.v[i - 1]! };
    this.t.splice(0, i);
    this.v.splice(0, i);
    this.from = Math.max(this.from, x);
    const keepFrom = this.before.t;
    this.gaps = this.gaps.filter((g) => g[1] > keepFrom);
  }

  /** Index range [i0, i1) of rows within [min, max]. */
  range(min: number, max: number): [number, number] {
    return [lowerBound(this.t, min), upperBound(this.t, max)];
  }

  /** Drops every row after x and the outages that end after it. */
  /** Drops the rows after x; returns whether there were any. */
  private dropAfter(x: number): boolean {
    const i = upperBound(this.t, x);
    const had = this.t.length > i;
    this.t.length = i;
    this.v.length = i;
    this.gaps = this.gaps.filter((g) => g[1] <= x);
    return had;
  }

  /**
   * Adds rows sorted by time, keeping only those inside the held range (a
   * row beyond it would sit next to rows we do not hold). Returns whether
   * any was added.
   */
  private add(t: readonly number[], v: readonly Value[]): boolean {
    let i0 = 0;
    let i1 = t.length;
    while (i0 < i1 && t[i0]! < this.from) i0++;
    while (i1 > i0 && t[i1 - 1]! > this.to) i1--;
    if (i0 >= i1) return false;
    const last = this.lastT;
    if (last === null || t[i0]! >= last) {
      // A live batch newer than everything held: a row far after its predecessor starts a new segment.
      let prev = last ?? this.before?.t ?? null;
      for (let i = i0; i < i1; i++) {
        const ti = t[i]!;
        if (prev !== null && this.gapMs !== null && ti - prev > this.gapMs) this.gaps.push([prev, ti]);
        this.t.push(ti);
        this.v.push(v[i] ?? null);
        prev = ti;
      }
      return true;
    }
    this.merge(t.slice(i0, i1), v.slice(i0, i1));
    return true;
  }

  /**
   * Merges rows sorted by time in place. Rows whose time equals an existing
   * row's are distinct rows (duplicate timestamps are real in the
   * historian), so they go after the existing ones: arrival order. A row
   * inside an outage splits it: what remains on either side is an outage
   * only if still longer than the threshold.
   */
  private merge(t: readonly number[], v: readonly Value[]): void {
    const n = t.length;
    const last = this.lastT!;
    const from = upperBound(this.t, t[0]!);
    const oldT = this.t.splice(from);
    const oldV = this.v.splice(from);
    let i = 0;
    let j = 0;
    while (i < oldT.length || j < n) {
      if (j >= n || (i < oldT.length && oldT[i]! <= t[j]!)) {
        this.t.push(oldT[i]!);
        this.v.push(oldV[i]!);
        i++;
      } else {
        this.t.push(t[j]!);
        this.v.push(v[j] ?? null);
        j++;
      }
    }
    for (const x of t) {
      if (x > last) {
        // Past the old newest row: an outage from its predecessor, as for a live row.
        const prev = this.t[lowerBound(this.t, x) - 1]!;
        if (this.gapMs !== null && x - prev > this.gapMs) this.addGap([prev, x]);
      } else this.splitGapAt(x);
    }
  }

  private splitGapAt(x: number): void {
    const k = this.gaps.findIndex((g) => g[0] < x && x < g[1]);
    if (k < 0) return;
    const [a, b] = this.gaps[k]!;
    const parts: Gap[] = [];
    const limit = this.gapMs ?? Infinity;
    if (x - a > limit) parts.push([a, x]);
    if (b - x > limit) parts.push([x, b]);
    this.gaps.splice(k, 1, ...parts);
  }

  private addGap(g: Gap): void {
    const k = this.gaps.findIndex((h) => h[0] > g[0]);
    if (k < 0) this.gaps.push(g);
    else this.gaps.splice(k, 0, g);
  }
}
