// When window statistics are fetched from the server: once the window
// settles after a change, at most every two seconds while live rows arrive
// (each row is counted at once in between, see livestats.ts), and every ten
// seconds in a live window anyway, as rows leave it on the left.

const DEBOUNCE_MS = 400;
const LIVE_ROWS_EVERY_MS = 2_000;
const LIVE_EVERY_MS = 10_000;

export class StatsLoop {
  private timer: number | undefined;
  private pending = false;
  private lastAt = 0;

  /** `fetch(quiet)`: quiet for a refresh of the same live window (the figures shown stay valid meanwhile). */
  constructor(private readonly fetch: (quiet: boolean) => void) {}

  /** The window changed: fetch once it settles. */
  schedule(delay = DEBOUNCE_MS): void {
    this.start(delay, false);
  }

  /** Live rows came: fetch again soon, but not more often than every two seconds. */
  liveRows(): void {
    if (!this.pending) this.start(Math.max(0, this.lastAt + LIVE_ROWS_EVERY_MS - Date.now()), true);
  }

  /** Every second while the window is live. */
  tick(now: number): void {
    if (!this.pending && now - this.lastAt > LIVE_EVERY_MS) this.start(0, true);
  }

  private start(delay: number, quiet: boolean): void {
    window.clearTimeout(this.timer);
    this.pending = true;
    this.timer = window.setTimeout(() => {
      this.pending = false;
      this.lastAt = Date.now();
      this.fetch(quiet);
    }, delay);
  }
}
