// The keyboard on a focused chart: ←/→ pan, +/− zoom, Backspace goes back,
// L returns to live. This maps keys to actions; the dashboard carries them out.

export interface ChartKeyActions {
  /** Moves the window by this fraction of its span (negative: earlier). */
  pan(fraction: number): void;
  zoomIn(): void;
  zoomOut(): void;
  back(): void;
  resumeLive(): void;
}

/** A keydown on a chart panel; keys with a modifier are left to the browser. */
export function handleChartKey(e: KeyboardEvent, act: ChartKeyActions): void {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  switch (e.key) {
    case "ArrowLeft":
      act.pan(-0.25);
      break;
    case "ArrowRight":
      act.pan(0.25);
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
