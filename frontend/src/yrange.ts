// The y-range control on a chart panel: "Y auto" or "Y 30 – 50"; it opens a
// small form to fix the range or return to the automatic fit. A <details>
// element, so it works with the keyboard (Enter/Space opens, Escape closes).

import { fmtValue } from "./format";
import type { YRange } from "./url";

export interface YRangeActions {
  /** A fixed range, or null: automatic. */
  set(r: YRange | null): void;
  /** The range drawn now, to start the inputs from. */
  current(): YRange;
}

let uid = 0;

export class YRangeControl {
  readonly el: HTMLDetailsElement;
  private readonly summary: HTMLElement;
  private readonly min: HTMLInputElement;
  private readonly max: HTMLInputElement;
  private readonly error: HTMLElement;

  constructor(
    key: string,
    private readonly name: string,
    private readonly act: YRangeActions,
  ) {
    const id = `yr-${key}-${++uid}`;
    this.el = document.createElement("details");
    this.el.className = "menu yrange";
    this.el.innerHTML = `
      <summary class="btn btn-quiet yrange-btn" data-testid="yrange-${key}"></summary>
      <form class="menu-body yrange-form" novalidate>
        <div class="menu-title">Y range</div>
        <div class="yrange-fields">
          <label for="${id}-min">Min</label><input id="${id}-min" type="number" step="any" inputmode="decimal" data-testid="yrange-${key}-min">
          <label for="${id}-max">Max</label><input id="${id}-max" type="number" step="any" inputmode="decimal" data-testid="yrange-${key}-max">
        </div>
        <p class="range-error" role="alert" hidden></p>
        <div class="yrange-actions">
          <button type="submit" class="btn" data-testid="yrange-${key}-apply">Apply</button>
          <button type="button" class="btn" data-testid="yrange-${key}-auto">Automatic</button>
        </div>
      </form>`;
    this.summary = this.el.querySelector("summary")!;
    this.min = this.el.querySelector<HTMLInputElement>(`#${id}-min`)!;
    this.max = this.el.querySelector<HTMLInputElement>(`#${id}-max`)!;
    this.error = this.el.querySelector(".range-error")!;
    this.min.setAttribute("aria-label", `${name}: lowest value shown`);
    this.max.setAttribute("aria-label", `${name}: highest value shown`);
    this.el.querySelector("form")!.addEventListener("submit", (e) => {
      e.preventDefault();
      this.apply();
    });
    this.el.querySelector(`[data-testid="yrange-${key}-auto"]`)!.addEventListener("click", () => {
      this.act.set(null);
      this.close();
    });
    this.el.addEventListener("toggle", () => {
      if (this.el.open) this.fill();
    });
    this.el.addEventListener("keydown", (e) => {
      if (e.key === "Escape") this.close();
    });
    document.addEventListener("click", (e) => {
      if (this.el.open && !this.el.contains(e.target as Node)) this.el.open = false;
    });
    this.show(null);
  }

  /** Shows which range is in force: automatic or fixed. */
  show(r: YRange | null): void {
    this.summary.textContent = r ? `Y ${fmtValue(r.min)} – ${fmtValue(r.max)}` : "Y auto";
    this.summary.classList.toggle("is-fixed", r !== null);
    this.summary.setAttribute(
      "aria-label",
      r ? `Y range of ${this.name}: fixed from ${fmtValue(r.min)} to ${fmtValue(r.max)}; change` : `Y range of ${this.name}: automatic; change`,
    );
    this.summary.title = r ? "Fixed y range: click to change or return to automatic" : "Automatic y range: click to fix one";
  }

  private fill(): void {
    const r = this.act.current();
    // Round to the axis' precision so the inputs read like the labels.
    const step = Math.abs(r.max - r.min) / 100;
    const dec = step > 0 ? Math.max(0, Math.min(6, -Math.floor(Math.log10(step)))) : 2;
    this.min.value = r.min.toFixed(dec);
    this.max.value = r.max.toFixed(dec);
    this.setError("");
    this.min.focus();
    this.min.select();
  }

  private apply(): void {
    const min = this.min.valueAsNumber;
    const max = this.max.valueAsNumber;
    if (!Number.isFinite(min)) return this.setError("Enter the lowest value", this.min);
    if (!Number.isFinite(max)) return this.setError("Enter the highest value", this.max);
    if (max <= min) return this.setError("The highest value must be above the lowest", this.max);
    this.act.set({ min, max });
    this.close();
  }

  private setError(text: string, input?: HTMLInputElement): void {
    this.error.textContent = text;
    this.error.hidden = !text;
    this.min.toggleAttribute("aria-invalid", input === this.min);
    this.max.toggleAttribute("aria-invalid", input === this.max);
    input?.focus();
  }

  private close(): void {
    this.el.open = false;
    this.summary.focus();
  }
}
