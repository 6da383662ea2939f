// One tooltip for all charts: at the cursor time it lists every series'
// value, placed beside the cursor inside the chart being hovered.

import type { Value } from "./buffer";
import type { SeriesChart } from "./chart";
import { fmtValue } from "./format";
import { fmtDateTime } from "./time";

export interface TooltipRow {
  name: string;
  unit: string;
  color: string;
  /** undefined: no sample near the cursor time (a gap, or outside the data). */
  value: Value | undefined;
  current: boolean;
}

export class Tooltip {
  private readonly el: HTMLDivElement;
  /** Where the cursor is; null while it is over no chart. */
  private at: { chart: SeriesChart; t: number; left: number; top: number } | null = null;

  /**
   * `rows`: every series' row at time t (`chart` is the hovered one);
   * `withMs`: whether the time needs milliseconds (a short window).
   */
  constructor(
    private readonly rows: (t: number, chart: SeriesChart) => TooltipRow[],
    private readonly withMs: () => boolean,
  ) {
    this.el = document.createElement("div");
    this.el.className = "tooltip";
    this.el.hidden = true;
    this.el.setAttribute("aria-hidden", "true"); // the tiles and stats carry the same values accessibly
  }

  /** The cursor is at time t over `chart`; t null: it left. */
  hover(chart: SeriesChart, t: number | null, left: number, top: number): void {
    this.at = t === null ? null : { chart, t, left, top };
    if (this.at) this.refresh();
    else this.el.hidden = true;
  }

  /** Redraws at the cursor with the rows held now (new rows may have come). */
  refresh(): void {
    if (!this.at) return;
    const { chart, t, left, top } = this.at;
    const time = document.createElement("div");
    time.className = "tt-time";
    time.textContent = fmtDateTime(t, this.withMs());
    const lines = this.rows(t, chart).map((r) => {
      const row = document.createElement("div");
      row.className = `tt-row${r.current ? " is-current" : ""}`;
      row.style.setProperty("--series-color", r.color);
      const cells = [
        ["swatch", ""],
        ["tt-name", r.name],
        ["tt-value", r.value === undefined ? "—" : r.value === null ? "NULL" : fmtValue(r.value)],
        ["tt-unit", typeof r.value === "number" ? r.unit : ""],
      ];
      for (const [cls, text] of cells) {
        const span = document.createElement("span");
        span.className = cls!;
        span.textContent = text!;
        row.append(span);
      }
      return row;
    });
    this.el.replaceChildren(time, ...lines);
    if (this.el.parentElement !== chart.plot) chart.plot.append(this.el);
    this.el.hidden = false;
    const box = chart.plotBox();
    if (!box) return;
    const w = this.el.offsetWidth;
    const h = this.el.offsetHeight;
    // Right of the cursor, flipped left near the edge; vertically clamped to the plot.
    let x = box.left + left + 14;
    if (x + w > box.left + box.width) x = box.left + left - w - 14;
    const y = Math.max(box.top, Math.min(box.top + top - h / 2, box.top + box.height - h));
    this.el.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
  }
}
