// Window statistics (min, max, mean, last) from the server's raw rows: never
// computed from the downsampled points the chart draws, which would hide spikes.

import { fmtCount, fmtValue } from "./format";
import type { SeriesStats } from "./types";

export class StatsView {
  constructor(private readonly el: HTMLElement) {}

  show(s: SeriesStats): void {
    this.el.classList.remove("is-pending", "is-error");
    if (!s.count) {
      this.el.innerHTML = `<span class="stat-empty">No rows in window</span>`;
      return;
    }
    const item = (label: string, v: number | null) =>
      `<span class="stat"><span class="stat-label">${label}</span> <span class="stat-value">${fmtValue(v)}</span></span>`;
    this.el.innerHTML =
      item("min", s.min) +
      item("max", s.max) +
      item("mean", s.mean) +
      item("last", s.last) +
      `<span class="stat stat-count">${fmtCount(s.count)} rows</span>`;
  }

  pending(): void {
    this.el.classList.add("is-pending");
  }

  error(message: string): void {
    this.el.classList.remove("is-pending");
    this.el.classList.add("is-error");
    this.el.textContent = message;
  }

  clear(text = ""): void {
    this.el.classList.remove("is-pending", "is-error");
    this.el.textContent = text;
  }
}
