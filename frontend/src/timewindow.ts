// The visible time window: either live (a span ending at the newest row,
// sliding as rows arrive) or fixed (absolute start/end). User changes are
// remembered so Back can undo them. No DOM here: unit-tested.

import type { Span, WindowSpec } from "./url";

export const DEFAULT_SPAN = 3_600_000;
export const MIN_SPAN = 1000;
const HISTORY_MAX = 50;

export class TimeWindow {
  spec: WindowSpec;
  /** The span Live returns to after a pause. */
  lastLiveSpan: Span = DEFAULT_SPAN;
  start = 0;
  end = 1;
  private readonly past: WindowSpec[] = [];

  constructor(initial: WindowSpec | null = null) {
    this.spec = initial ?? { kind: "live", span: DEFAULT_SPAN };
    if (this.spec.kind === "live") this.lastLiveSpan = this.spec.span;
  }

  get live(): boolean {
    return this.spec.kind === "live";
  }

  get span(): number {
    return this.end - this.start;
  }

  get canGoBack(): boolean {
    return this.past.length > 0;
  }

  /**
   * Computes [start, end] (integer ms) from the spec. A live window ends at
   * the newest row (so an old data set still shows its last hour); "all"
   * starts at the oldest. Returns whether the window moved.
   */
  resolve(newest: number | null, oldest: number | null, now = Date.now()): boolean {
    let start: number;
    let end: number;
    if (this.spec.kind === "fixed") {
      start = this.spec.start;
      end = this.spec.end;
    } else {
      end = newest ?? now;
      if (this.spec.span === "all") {
        start = oldest ?? end - DEFAULT_SPAN;
        if (end - start < MIN_SPAN) start = end - DEFAULT_SPAN;
      } else start = end - this.spec.span;
    }
    start = Math.floor(start);
    end = Math.ceil(end);
    const changed = start !== this.start || end !== this.end;
    this.start = start;
    this.end = end;
    return changed;
  }

  /** Switches to a user-chosen spec; the current one is kept for back() unless remember is false. */
  set(spec: WindowSpec, remember = true): void {
    if (spec.kind === "fixed") {
      let { start, end } = spec;
      if (end - start < MIN_SPAN) {
        const mid = (start + end) / 2;
        start = mid - MIN_SPAN / 2;
        end = mid + MIN_SPAN / 2;
      }
      spec = { kind: "fixed", start: Math.floor(start), end: Math.ceil(end) };
    } else this.lastLiveSpan = spec.span;
    if (remember) {
      this.past.push(this.spec.kind === "live" ? this.spec : { kind: "fixed", start: this.start, end: this.end });
      if (this.past.length > HISTORY_MAX) this.past.shift();
    }
    this.spec = spec;
  }

  /** Restores the previous window; false when there is none. */
  back(): boolean {
    const prev = this.past.pop();
    if (!prev) return false;
    this.set(prev, false);
    return true;
  }

  /** Twice the span around the same centre; a live window stays live with twice its span. */
  zoomedOut(): WindowSpec | null {
    if (this.spec.kind === "live") return this.spec.span === "all" ? null : { kind: "live", span: this.spec.span * 2 };
    const half = this.span / 2;
    return { kind: "fixed", start: this.start - half, end: this.end + half };
  }

  /** The middle half of the window. */
  zoomedIn(): WindowSpec {
    const q = this.span / 4;
    return { kind: "fixed", start: this.start + q, end: this.end - q };
  }

  /** Moved by a fraction of its span (negative: earlier). Panning pauses Live. */
  panned(fraction: number): WindowSpec {
    const dt = Math.round(this.span * fraction);
    return { kind: "fixed", start: this.start + dt, end: this.end + dt };
  }

  /** Live → paused on the current window; paused → live with the last live span. */
  toggledLive(): WindowSpec {
    return this.spec.kind === "live"
      ? { kind: "fixed", start: this.start, end: this.end }
      : { kind: "live", span: this.lastLiveSpan };
  }
}
