// Light/dark theme: follows prefers-color-scheme until the user picks one,
// which is remembered. The choice is `data-theme` on <html>; CSS does the rest.

export type Theme = "light" | "dark";

const KEY = "dashboard-theme";
const media = window.matchMedia("(prefers-color-scheme: dark)");

function stored(): Theme | null {
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : null;
  } catch {
    return null; // storage disabled (private mode, policy)
  }
}

export function currentTheme(): Theme {
  return document.documentElement.dataset["theme"] === "dark" ? "dark" : "light";
}

function apply(theme: Theme): void {
  document.documentElement.dataset["theme"] = theme;
  document.documentElement.style.colorScheme = theme;
}

/** Applies the initial theme; `onChange` runs whenever it changes later. */
export function initTheme(onChange: (t: Theme) => void): void {
  apply(stored() ?? (media.matches ? "dark" : "light"));
  media.addEventListener("change", (e) => {
    if (stored()) return; // an explicit choice wins over the system
    apply(e.matches ? "dark" : "light");
    onChange(currentTheme());
  });
}

export function toggleTheme(): Theme {
  const next: Theme = currentTheme() === "dark" ? "light" : "dark";
  apply(next);
  try {
    localStorage.setItem(KEY, next);
  } catch {
    // Not persisted; still applied for this page.
  }
  return next;
}

/** What the charts draw with, from CSS custom properties (uPlot cannot use var()). */
export interface ChartStyle {
  text: string;
  grid: string;
  /** Canvas text follows the page's scale (larger on control-room screens). */
  fontSize: number;
  family: string;
  alarm: string;
  surface: string;
}

/** Reads the chart style in one pass: read between DOM changes, each property would cost a style recalculation. */
export function chartStyle(): ChartStyle {
  const cs = getComputedStyle(document.documentElement);
  const v = (name: string) => cs.getPropertyValue(name).trim();
  return {
    text: v("--chart-text"),
    grid: v("--chart-grid"),
    fontSize: Number.parseFloat(v("--chart-font-size")) || 11,
    family: v("--font-ui") || "system-ui, sans-serif",
    alarm: v("--alarm") || "#d11a2a",
    surface: v("--surface") || "#fff",
  };
}

/** Reads a CSS custom property for canvas drawing (uPlot cannot use var()). */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

const PALETTE_VARS = ["--series-1", "--series-2", "--series-3", "--series-4", "--series-5", "--series-6"];

/** Series colours come from CSS (one palette that reads on both themes), `n` of them read in one pass. */
export function seriesColors(n: number): string[] {
  const cs = getComputedStyle(document.documentElement);
  return Array.from({ length: n }, (_, i) => cs.getPropertyValue(PALETTE_VARS[i % PALETTE_VARS.length]!).trim() || "#3b82f6");
}
