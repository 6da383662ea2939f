// The keyboard cursor: on a focused chart the arrows walk its samples (see
// chartkeys.ts). Each stop shows the shared tooltip there and says "name,
// time: value unit" once through the page's live region. The mouse takes
// over as soon as it hovers a chart.

import { announce } from "./announcer";
import type { SeriesChart } from "./chart";
import { moveCursor, type CursorMove } from "./chartkeys";
import { fmtValue } from "./format";
import type { SeriesView } from "./series";
import { fmtDateTime } from "./time";
import type { Tooltip } from "./tooltip";

interface Window {
  start: number;
  end: number;
}

/** What a keyboard stop says: "pH, 2026-03-04 12:00:05.250: 7.012" (unit after the value, if any). */
export function readingText(name: string, unit: string, time: string, v: number | null): string {
  const value = v === null ? "NULL" : `${fmtValue(v)}${unit ? ` ${unit}` : ""}`;
  return `${name}, ${time}: ${value}`;
}

export class KeyboardCursor {
  /** The series and the time of the sample the cursor is on; null: no keyboard cursor. */
  private at: { s: SeriesView; t: number } | null = null;

  constructor(
    private readonly tooltip: Tooltip,
    private readonly win: () => Window,
    private readonly withMs: () => boolean,
  ) {}

  /** Moves the cursor on `s`'s chart and reads the sample it lands on. */
  move(s: SeriesView, how: CursorMove): void {
    const { start, end } = this.win();
    const b = s.buf;
    const [i0, i1] = b.range(start, end);
    const here = this.at?.s === s ? b.range(this.at.t, this.at.t)[0] : null;
    if (this.at && this.at.s !== s) this.clear();
    const i = moveCursor(i0, i1, here, how);
    if (i === null) {
      announce(`${s.cfg.name}: no samples in view`);
      return;
    }
    const t = b.t[i]!;
    const v = b.v[i] ?? null;
    this.at = { s, t };
    s.panel.dataset["cursorT"] = String(t);
    this.place();
    // The sample's own time, to the millisecond when it has any (as the tooltip's rows say it).
    announce(readingText(s.cfg.name, s.cfg.unit, fmtDateTime(t, this.withMs() || t % 1000 !== 0), v));
  }

  /** The mouse hovers a chart (t null: it left): it takes over the tooltip. */
  hover(chart: SeriesChart, t: number | null, left: number, top: number): void {
    if (this.at && t !== null) this.clear();
    if (!this.at) this.tooltip.hover(chart, t, left, top);
  }

  clear(): void {
    if (!this.at) return;
    const { s } = this.at;
    this.at = null;
    delete s.panel.dataset["cursorT"];
    this.tooltip.hover(s.chart, null, 0, 0);
  }

  /** After a redraw: the window may have moved under the cursor, and new rows may change the tooltip. */
  refresh(): void {
    if (!this.at) this.tooltip.refresh();
    else if (!this.place()) this.clear();
  }

  /** Puts crosshair and tooltip on the cursor's sample; false when it is out of view. */
  private place(): boolean {
    if (!this.at) return false;
    const { s, t } = this.at;
    const [i] = s.buf.range(t, t);
    const v = s.buf.t[i] === t ? (s.buf.v[i] ?? null) : null;
    const p = s.chart.pointAt(t, v);
    if (!p) return false;
    this.tooltip.hover(s.chart, t, p.left, p.top);
    return true;
  }
}
