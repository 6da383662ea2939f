// One tooltip for all charts: at the cursor time it lists every series'
// value in force there with that sample's own time (or the outage the
// cursor is in), placed beside the cursor inside the chart being hovered.

import type { SeriesChart } from "./chart";
import { fmtValue } from "./format";
import type { Reading } from "./segments";
import { fmtDate, fmtDateTime, fmtTime } from "./time";
import type { Interpolation } from "./types";

export interface TooltipRow {
  name: string;
  unit: string;
  color: string;
  reading: Reading;
  interpolation: Interpolation;
  current: boolean;
}

/** The value cell and the line under it that says where the value comes from. */
export function describeReading(r: Reading, interpolation: Interpolation, at: number, withMs: boolean): { value: string; when: string } {
  // A time on the cursor's day needs no date.
  const time = (t: number) => (fmtDate(t) === fmtDate(at) ? fmtTime(t, withMs || t % 1000 !== 0) : fmtDateTime(t, withMs));
  switch (r.kind) {
    case "value": {
      const value = r.v === null ? "NULL" : fmtValue(r.v);
      if (r.exact) return { value, when: `sample at ${time(r.t)}` };
      return { value, when: interpolation === "step" ? `held since ${time(r.t)}` : `last sample ${time(r.t)}` };
    }
    case "outage":
      return r.to === null
        ? { value: "no data", when: `no sample since ${time(r.from)}` }
        : { value: "no data", when: `outage from ${time(r.from)} to ${time(r.to)}` };
    case "none":
      return { value: "—", when: "nothing loaded here" };
  }
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
    const withMs = this.withMs();
    const time = document.createElement("div");
    time.className = "tt-time";
    time.textContent = fmtDateTime(t, withMs);
    const lines = this.rows(t, chart).map((r) => {
      const { value, when } = describeReading(r.reading, r.interpolation, t, withMs);
      const row = document.createElement("div");
      const kind = r.reading.kind === "value" ? "" : ` is-${r.reading.kind}`;
      row.className = `tt-row${r.current ? " is-current" : ""}${kind}`;
      row.style.setProperty("--series-color", r.color);
      const hasNumber = r.reading.kind === "value" && r.reading.v !== null;
      const cells = [
        ["swatch", ""],
        ["tt-name", r.name],
        ["tt-value", value],
        ["tt-unit", hasNumber ? r.unit : ""],
        ["tt-when", when],
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
