// Layout sizing: the plots share the viewport height below the tiles, so all
// charts fit on one screen (within a minimum and maximum plot height).

import { cssVar } from "./theme";

const PANEL_CHROME_PX = 38; // panel header, padding and gap
const BOTTOM_PX = 14;
const MIN_PLOT_PX = 96;
const MAX_PLOT_PX = 440;

/**
 * Sizes the plots of `count` chart panels in `charts` now, and again whenever the page around them
 * changes. Returns the sizing, to be run again at once when the caller has just changed that page.
 */
export function fitPlotsToViewport(charts: HTMLElement, count: number): () => void {
  const fit = () => fitPlots(charts, count);
  fit();
  window.addEventListener("resize", fit);
  // The banner, a wrapping toolbar or taller tiles move the charts down: refit.
  const refit = new ResizeObserver(fit);
  for (const sel of ["#banner", ".toolbar", "#tiles", ".caption-row"]) {
    const el = document.querySelector(sel);
    if (el) refit.observe(el);
  }
  return fit;
}

function fitPlots(charts: HTMLElement, count: number): void {
  const top = charts.getBoundingClientRect().top + window.scrollY;
  const n = Math.max(1, count);
  const axis = (Number.parseFloat(cssVar("--chart-font-size")) || 11) * 3.4; // time labels under the bottom chart
  const avail = window.innerHeight - top - BOTTOM_PX - axis - n * PANEL_CHROME_PX;
  const h = Math.max(MIN_PLOT_PX, Math.min(MAX_PLOT_PX, Math.floor(avail / n)));
  charts.style.setProperty("--plot-h", `${h}px`);
}
