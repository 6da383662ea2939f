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

/** Reads a CSS custom property for canvas drawing (uPlot cannot use var()). */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

const PALETTE_VARS = ["--series-1", "--series-2", "--series-3", "--series-4", "--series-5", "--series-6"];

/** Series colours come from CSS (one palette that reads on both themes). */
export function seriesColor(i: number): string {
  return cssVar(PALETTE_VARS[i % PALETTE_VARS.length]!) || "#3b82f6";
}
