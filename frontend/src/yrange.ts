// The y-range control on a chart panel: "Y auto" or "Y 30 – 50"; it opens a
// small form to fix the range or return to the automatic fit. A <details>
// element, so it works with the keyboard (Enter/Space opens, Escape closes).

import { h } from "./dom";
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
    // Built from nodes: no configuration text is ever parsed as markup.
    this.summary = h("summary", { class: "btn btn-quiet yrange-btn", "data-testid": `yrange-${key}` });
    const input = (which: "min" | "max") =>
      h("input", { id: `${id}-${which}`, type: "number", step: "any", inputmode: "decimal", "data-testid": `yrange-${key}-${which}` });
    this.min = input("min");
    this.max = input("max");
    this.error = h("p", { class: "range-error", role: "alert" });
    this.error.hidden = true;
    const auto = h("button", { type: "button", class: "btn", "data-testid": `yrange-${key}-auto` }, "Automatic");
    const form = h(
      "form",
      { class: "menu-body yrange-form", novalidate: "" },
      h("div", { class: "menu-title" }, "Y range"),
      h("div", { class: "yrange-fields" }, h("label", { for: this.min.id }, "Min"), this.min, h("label", { for: this.max.id }, "Max"), this.max),
      this.error,
      h("div", { class: "yrange-actions" }, h("button", { type: "submit", class: "btn", "data-testid": `yrange-${key}-apply` }, "Apply"), auto),
    );
    this.el.append(this.summary, form);
    this.min.setAttribute("aria-label", `${name}: lowest value shown`);
    this.max.setAttribute("aria-label", `${name}: highest value shown`);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.apply();
    });
    auto.addEventListener("click", () => {
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
    // The accessible name starts with the visible text (WCAG 2.5.3, label in name).
    const shown = this.summary.textContent;
    this.summary.setAttribute("aria-label", `${shown}: y range of ${this.name} is ${r ? "fixed" : "automatic"}; change`);
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
