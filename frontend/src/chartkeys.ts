// The keyboard on a focused chart. A keyboard cursor reads values: ←/→ move
// it one sample, PageUp/PageDown ten, Home/End to the oldest/newest sample in
// view, Escape hides it. Shift+←/→ pan, +/− zoom, Backspace goes back, L
// returns to live. This maps keys to actions; the dashboard carries them out.

export interface ChartKeyActions {
  /** Moves the window by this fraction of its span (negative: earlier). */
  pan(fraction: number): void;
  zoomIn(): void;
  zoomOut(): void;
  back(): void;
  resumeLive(): void;
  /** Moves the keyboard cursor by n samples (negative: earlier); the first move lands on the newest sample in view. */
  step(n: number): void;
  /** Puts the keyboard cursor on the oldest or newest sample in view. */
  edge(which: "oldest" | "newest"): void;
  /** Hides the keyboard cursor. */
  clearCursor(): void;
}

/** How many samples PageUp/PageDown move the cursor. */
export const PAGE_STEP = 10;

/** The help a screen reader gives for a chart panel (its accessible name ends with it). */
export const CHART_KEY_HELP =
  "Left and right arrows read the values sample by sample, Home and End jump to the oldest and newest, " +
  "Shift with the arrows pans, plus and minus zoom, L returns to live.";

/** A keydown on a chart panel; keys with Alt, Ctrl or Meta are left to the browser. */
export function handleChartKey(e: KeyboardEvent, act: ChartKeyActions): void {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  switch (e.key) {
    case "ArrowLeft":
      if (e.shiftKey) act.pan(-0.25);
      else act.step(-1);
      break;
    case "ArrowRight":
      if (e.shiftKey) act.pan(0.25);
      else act.step(1);
      break;
    case "PageUp":
      act.step(-PAGE_STEP);
      break;
    case "PageDown":
      act.step(PAGE_STEP);
      break;
    case "Home":
      act.edge("oldest");
      break;
    case "End":
      act.edge("newest");
      break;
    case "Escape":
      act.clearCursor();
      break;
    case "+":
    case "=":
      act.zoomIn();
      break;
    case "-":
      act.zoomOut();
      break;
    case "Backspace":
      act.back();
      break;
    case "l":
    case "L":
      act.resumeLive();
      break;
    default:
      return;
  }
  e.preventDefault();
}

/** A cursor move: by n samples, or to an edge. */
export type CursorMove = number | "oldest" | "newest";

/**
 * Where the cursor lands among the samples in view, indices [i0, i1):
 * `at` is its sample now (null: none yet, or out of view). The first move
 * of either arrow lands on the newest sample; moves stop at the edges.
 * Null when nothing is in view.
 */
export function moveCursor(i0: number, i1: number, at: number | null, move: CursorMove): number | null {
  if (i1 <= i0) return null;
  if (move === "oldest") return i0;
  if (move === "newest" || at === null || at < i0 || at >= i1) return i1 - 1;
  return Math.min(i1 - 1, Math.max(i0, at + move));
}
