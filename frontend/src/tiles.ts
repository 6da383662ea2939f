// Latest-value tile per series: value + unit, age ("12 s ago") and a clear
// stale warning when no sample came for longer than the series' threshold.

import type { Value } from "./buffer";
import { limitState } from "./freshness";
import { h } from "./dom";
import { fmtValue } from "./format";
import { fmtAge, fmtDateTime } from "./time";
import type { SeriesState, SeriesStyle } from "./types";

export class Tile {
  readonly el: HTMLElement;
  private readonly value: HTMLElement;
  private readonly unit: HTMLElement;
  private readonly age: HTMLElement;
  private readonly flag: HTMLElement;
  private readonly detail: HTMLElement;
  private t: number | null = null;
  /** undefined: the latest row's time is known but not its value (yet). */
  private v: Value | undefined = undefined;
  private state: SeriesState = "loading";
  private message = "";
  private limitsTitle = "";
  /** From /api/series; null until then, and a tile is never stale before the threshold is known. */
  staleAfterMs: number | null = null;

  constructor(readonly series: SeriesStyle) {
    const k = series.key;
    this.el = document.createElement("article");
    this.el.className = "tile";
    this.el.dataset["testid"] = `tile-${k}`;
    this.el.style.setProperty("--series-color", series.color);
    // Built from nodes: the name and unit are configuration text, never markup. The flag is no
    // live region of its own: the page announces state changes once (announcer.ts).
    this.value = h("span", { class: "tile-value", "data-testid": `tile-${k}-value` }, "—");
    this.unit = h("span", { class: "tile-unit" });
    this.age = h("span", { class: "tile-age", "data-testid": `tile-${k}-age` }, "—");
    this.flag = h("span", { class: "tile-flag" });
    this.detail = h("span", { class: "tile-detail" });
    const shown = h("span", { class: "tile-limits", "data-testid": `tile-${k}-limits` });
    this.el.append(
      h("div", { class: "tile-head" }, h("span", { class: "swatch", "aria-hidden": "true" }), h("h2", { class: "tile-name" }, series.name), this.flag),
      h("div", { class: "tile-reading" }, this.value, this.unit, shown),
      h("div", { class: "tile-foot" }, this.age, this.detail),
    );
    this.unit.textContent = series.unit;
    const limits = limitText(series.low, series.high);
    this.limitsTitle = limits ? `Limits: ${limits}` : "";
    this.el.title = this.limitsTitle;
    // Always in view, not only on hover: how close the value runs to a limit is read at a glance.
    shown.hidden = !limits;
    shown.textContent = [series.low !== null ? `low ${fmtValue(series.low)}` : "", series.high !== null ? `high ${fmtValue(series.high)}` : ""]
      .filter(Boolean)
      .join(" · ");
    shown.setAttribute("aria-label", `Limits ${limits} ${series.unit}`.trim());
  }

  /** The warning shown ("Stale", "Above high limit"…), "" when none: what the page announces on change. */
  get flagText(): string {
    return this.flag.textContent ?? "";
  }

  get latestT(): number | null {
    return this.t;
  }

  get latestV(): Value | undefined {
    return this.v;
  }

  /** Offers a sample; kept only if it is at least as new as the one shown. */
  offer(t: number, v: Value): void {
    if (this.t !== null && t < this.t) return;
    this.t = t;
    this.v = v;
    this.render(Date.now());
  }

  /** Knows the time of the latest row but not (yet) its value. */
  offerTime(t: number): void {
    if (this.t === null) {
      this.t = t;
      this.render(Date.now());
    }
  }

  setState(state: SeriesState, message = ""): void {
    this.state = state;
    this.message = message;
    this.render(Date.now());
  }

  isStale(now: number): boolean {
    return this.t !== null && this.staleAfterMs !== null && now - this.t > this.staleAfterMs;
  }

  render(now: number): void {
    const { low, high } = this.series;
    const hasValue = this.t !== null;
    const v = this.v;
    // NULL is a real row with no value; undefined means not loaded yet.
    this.value.textContent = hasValue && v !== undefined ? (v === null ? "NULL" : fmtValue(v)) : "—";
    this.unit.hidden = !hasValue || v === null || v === undefined || !this.series.unit;
    const stale = this.isStale(now);
    const lim = limitState(v, low, high);
    let flag = "";
    let cls = "tile";
    if (this.state === "missing" || this.state === "error" || (this.state === "empty" && !hasValue)) {
      cls += ` is-${this.state}`;
      flag = this.state === "missing" ? "Table not found" : this.state === "empty" ? "No data" : "Error";
    } else if (stale) {
      cls += " is-stale";
      flag = "Stale";
    }
    if (lim) {
      cls += " is-alarm";
      const below = lim === "below";
      flag = flag ? `${flag} · ${below ? "Below low" : "Above high"}` : below ? "Below low limit" : "Above high limit";
    }
    this.el.className = cls;
    this.flag.textContent = flag;
    this.flag.hidden = !flag;
    if (hasValue) {
      this.age.textContent = stale ? `No data for ${fmtAge(now - this.t!).replace(" ago", "")}` : fmtAge(now - this.t!);
      this.detail.textContent = fmtDateTime(this.t!);
    } else {
      this.age.textContent = this.state === "loading" ? "Loading…" : "No samples";
      // The flag already names the problem; the server's full text is a hover away.
      this.detail.textContent = "";
    }
    this.el.title = [this.limitsTitle, hasValue ? "" : this.message].filter(Boolean).join("\n");
    this.el.setAttribute(
      "aria-label",
      `${this.series.name}: ${this.value.textContent} ${this.series.unit}, ${this.age.textContent}${flag ? `, ${flag}` : ""}`,
    );
  }
}

export function limitText(low: number | null, high: number | null): string {
  if (low !== null && high !== null) return `${fmtValue(low)} – ${fmtValue(high)}`;
  if (low !== null) return `≥ ${fmtValue(low)}`;
  if (high !== null) return `≤ ${fmtValue(high)}`;
  return "";
}
