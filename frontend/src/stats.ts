// Window statistics (min, max, mean, last) from the server's raw rows: never
// computed from the downsampled points the chart draws, which would hide spikes.

import { h } from "./dom";
import { fmtCount, fmtValue } from "./format";
import type { SeriesStats } from "./types";

export class StatsView {
  constructor(private readonly el: HTMLElement) {}

  show(s: SeriesStats): void {
    this.el.classList.remove("is-pending", "is-error");
    if (!s.count) {
      this.el.replaceChildren(h("span", { class: "stat-empty" }, "No rows in window"));
      return;
    }
    const item = (label: string, v: number | null) =>
      h("span", { class: "stat" }, h("span", { class: "stat-label" }, label), " ", h("span", { class: "stat-value" }, fmtValue(v)));
    this.el.replaceChildren(
      item("min", s.min),
      item("max", s.max),
      item("mean", s.mean),
      item("last", s.last),
      h("span", { class: "stat stat-count" }, `${fmtCount(s.count)} rows`),
    );
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
