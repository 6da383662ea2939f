// REST loads of the window: debounced after a window change, each series at
// its chart's pixel width, and retried while the server cannot be reached
// (the charts keep drawing what they hold meanwhile).

import type { LoadResult, SeriesView } from "./series";
import type { TimeWindow } from "./timewindow";

const LOAD_DEBOUNCE_MS = 120;
/** Waits before loading again what an unreachable server did not send. */
const RETRY_MS = [2_000, 4_000, 8_000, 15_000];

export interface LoaderEvents {
  /** The newest row time known over all series. */
  newest(): number | null;
  /** A series' load finished: draw. */
  loaded(): void;
  /** Whether the server answered (false: it cannot be reached). */
  reachable(ok: boolean): void;
  /** A retry is due: what else needs the server (statistics) may try again too. */
  retrying(): void;
}

export class Loader {
  private timer: number | undefined;
  private retryTimer: number | undefined;
  private retries = 0;

  constructor(
    private readonly series: ReadonlyMap<string, SeriesView>,
    private readonly win: TimeWindow,
    private readonly maxPoints: number,
    private readonly on: LoaderEvents,
  ) {}

  /** Debounced: drag-zooms and repeated clicks load once, at full resolution. */
  schedule(): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.load([...this.series.keys()]), LOAD_DEBOUNCE_MS);
  }

  /** Reloads the window for the given series through REST (appends are queued meanwhile). */
  async load(keys: string[]): Promise<void> {
    const { start, live } = this.win;
    let { end } = this.win;
    // A window reaching the newest row is continued by live rows.
    const follow = live || end >= (this.on.newest() ?? Infinity);
    if (live) {
      // Ask past the newest row so the snapshot holds every row up to its seq:
      // rows behind an append we have not received yet are not lost. Reach to
      // "now" only when the data is recent: a year-old data set must not turn
      // the request into a year-wide (coarsely downsampled) window.
      const span = end - start;
      const now = Date.now();
      end = (now > end && now - end < span ? now : end) + Math.max(60_000, span * 0.02);
    }
    const results = await Promise.all(
      keys.map(async (k) => {
        const s = this.series.get(k)!;
        const r = await s.load({ start, end }, Math.min(this.maxPoints, s.chart.pixelWidth()), follow);
        this.on.loaded();
        return r;
      }),
    );
    this.settle(results);
  }

  /** An unreachable server: said once for the page, and tried again with a growing pause. */
  private settle(results: LoadResult[]): void {
    if (results.includes("unreachable")) {
      this.on.reachable(false);
      if (this.retryTimer !== undefined) return;
      const delay = RETRY_MS[Math.min(this.retries++, RETRY_MS.length - 1)]!;
      this.retryTimer = window.setTimeout(() => {
        this.retryTimer = undefined;
        const keys = [...this.series.values()].filter((s) => s.unreachable).map((s) => s.key);
        if (keys.length) void this.load(keys);
        this.on.retrying();
      }, delay);
    } else if (results.includes("ok")) {
      this.retries = 0;
      this.on.reachable(true);
    }
  }
}
