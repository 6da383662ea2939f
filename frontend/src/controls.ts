// The toolbar and header controls (static markup in the template): presets,
// absolute range, zoom/pan/back, live, refresh, CSV, time zone and theme.
// The connection pill and the banner are connection.ts's.

import type { DataState } from "./freshness";
import type { Theme } from "./theme";
import { fmtDuration, fromInputValue, timeZoneLabel, toInputValue, type TimeZoneMode } from "./time";
import { formatSpan, parseSpan, type Span, type WindowSpec } from "./url";

export interface ControlActions {
  preset(span: Span): void;
  applyRange(start: number, end: number): void;
  back(): void;
  zoomOut(): void;
  pan(direction: -1 | 1): void;
  toggleLive(): void;
  refresh(): void;
  download(keys: string[]): void;
  toggleTz(): void;
  toggleTheme(): void;
}

function $(sel: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(sel);
  if (!el) throw new Error(`template is missing ${sel}`);
  return el;
}

export class Controls {
  private readonly start = $("#range-start") as HTMLInputElement;
  private readonly end = $("#range-end") as HTMLInputElement;
  private readonly rangeError = $("#range-error");
  private readonly live = $("#live-toggle") as HTMLButtonElement;
  private readonly backBtn = $("#back") as HTMLButtonElement;
  private readonly refreshBtn = $("#refresh");
  private readonly caption = $("#window-caption");
  private readonly tzBtn = $("#tz-toggle") as HTMLButtonElement;
  private readonly themeBtn = $("#theme-toggle") as HTMLButtonElement;
  private readonly csvMenu = $("#csv-menu");
  private readonly csvBtn = $("#download-csv") as HTMLButtonElement;
  private readonly presets = Array.from(document.querySelectorAll<HTMLButtonElement>("[data-span]"));
  private inputsDirty = false;
  /** Whether rows are arriving: a live window on an old run follows it but is not "live". */
  private dataKind: DataState["kind"] = "unknown";
  private shown: { spec: WindowSpec; start: number; end: number } | null = null;

  constructor(
    private readonly actions: ControlActions,
    series: { key: string; name: string }[],
  ) {
    for (const b of this.presets) {
      b.addEventListener("click", () => {
        const span = parseSpan(b.dataset["span"] ?? null);
        if (span !== null) {
          this.inputsDirty = false;
          actions.preset(span);
        }
      });
    }
    const onInput = () => {
      this.inputsDirty = true;
      this.setRangeError("");
    };
    this.start.addEventListener("input", onInput);
    this.end.addEventListener("input", onInput);
    const submit = (e: Event) => {
      e.preventDefault();
      this.submitRange();
    };
    $("#range-form").addEventListener("submit", submit);
    this.backBtn.addEventListener("click", () => actions.back());
    $("#zoom-out").addEventListener("click", () => actions.zoomOut());
    $("#pan-left").addEventListener("click", () => actions.pan(-1));
    $("#pan-right").addEventListener("click", () => actions.pan(1));
    this.live.addEventListener("click", () => {
      this.inputsDirty = false;
      actions.toggleLive();
    });
    this.refreshBtn.addEventListener("click", () => actions.refresh());
    this.tzBtn.addEventListener("click", () => actions.toggleTz());
    this.themeBtn.addEventListener("click", () => actions.toggleTheme());

    // CSV: all series by default; the menu narrows the choice.
    const list = $("#csv-series");
    for (const s of series) {
      const label = document.createElement("label");
      label.className = "check";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = true;
      box.value = s.key;
      box.addEventListener("change", () => this.updateCsvButton());
      label.append(box, document.createTextNode(` ${s.name}`));
      list.append(label);
    }
    this.csvBtn.addEventListener("click", () => {
      const keys = this.csvKeys();
      if (keys.length) actions.download(keys);
    });
    // Close the series menu on outside click or Escape.
    document.addEventListener("click", (e) => {
      const details = this.csvMenu as HTMLDetailsElement;
      if (details.open && !details.contains(e.target as Node)) details.open = false;
    });
    this.csvMenu.addEventListener("keydown", (e) => {
      if ((e as KeyboardEvent).key === "Escape") {
        (this.csvMenu as HTMLDetailsElement).open = false;
        this.csvMenu.querySelector("summary")?.focus();
      }
    });
  }

  private csvKeys(): string[] {
    return Array.from(this.csvMenu.querySelectorAll<HTMLInputElement>("input[type=checkbox]"))
      .filter((b) => b.checked)
      .map((b) => b.value);
  }

  private updateCsvButton(): void {
    const keys = this.csvKeys();
    const total = this.csvMenu.querySelectorAll("input[type=checkbox]").length;
    this.csvBtn.disabled = keys.length === 0;
    const what = keys.length === total ? "all series" : `${keys.length} of ${total} series`;
    this.csvBtn.title = `Download the visible window as CSV (${what})`;
    $("#csv-count").textContent = keys.length === total ? "" : `${keys.length}/${total}`;
  }

  private submitRange(): void {
    const a = fromInputValue(this.start.value);
    const b = fromInputValue(this.end.value);
    if (!Number.isFinite(a)) return this.setRangeError("Enter a valid start time", this.start);
    if (!Number.isFinite(b)) return this.setRangeError("Enter a valid end time", this.end);
    if (b <= a) return this.setRangeError("End must be after start", this.end);
    this.inputsDirty = false;
    this.setRangeError("");
    this.actions.applyRange(a, b);
  }

  private setRangeError(text: string, input?: HTMLInputElement): void {
    this.rangeError.textContent = text;
    this.rangeError.hidden = !text;
    this.start.toggleAttribute("aria-invalid", input === this.start);
    this.end.toggleAttribute("aria-invalid", input === this.end);
    if (input) input.focus();
  }

  /** Reflects the window in the presets, pickers, live toggle and caption. */
  showWindow(spec: WindowSpec, start: number, end: number): void {
    this.shown = { spec, start, end };
    const live = spec.kind === "live";
    const fresh = this.dataKind !== "historical";
    const liveSpan = live ? formatSpan(spec.span) : null;
    for (const b of this.presets) b.setAttribute("aria-pressed", String(b.dataset["span"] === liveSpan));
    this.live.setAttribute("aria-pressed", String(live));
    this.live.classList.toggle("is-live", live && fresh);
    this.live.classList.toggle("is-latest", live && !fresh);
    this.live.querySelector(".label")!.textContent = live ? (fresh ? "Live" : "Latest") : "Resume live";
    this.live.title = live
      ? fresh
        ? "Following the newest data; click to pause"
        : "Showing the newest rows of an old run (no rows are arriving); click to pause"
      : "Paused: click to follow the newest data again";
    const focused = document.activeElement === this.start || document.activeElement === this.end;
    if (!this.inputsDirty && !focused) {
      this.start.value = toInputValue(start);
      this.end.value = toInputValue(end);
    }
    const strong = document.createElement("strong");
    strong.textContent = live
      ? spec.span === "all"
        ? "All data"
        : `Last ${fmtDuration(spec.span)}`
      : fmtDuration(end - start);
    const range = document.createElement("span");
    range.textContent = `${toInputValue(start).replace("T", " ")} → ${toInputValue(end).replace("T", " ")} ${timeZoneLabel()}`;
    const mode = document.createElement("span");
    mode.className = live ? (fresh ? "caption-live" : "caption-historical") : "caption-paused";
    mode.textContent = live ? (fresh ? "live · following the newest data" : "historical · no rows arriving") : "paused";
    this.caption.replaceChildren(strong, range, mode);
  }

  /** Live or historical data: the caption and the Live button say which. */
  setDataState(data: DataState): void {
    if (data.kind === this.dataKind) return;
    this.dataKind = data.kind;
    if (this.shown) this.showWindow(this.shown.spec, this.shown.start, this.shown.end);
  }

  setRefreshing(busy: boolean): void {
    this.refreshBtn.classList.toggle("is-busy", busy);
    this.refreshBtn.setAttribute("aria-busy", String(busy));
  }

  setCanGoBack(can: boolean): void {
    this.backBtn.disabled = !can;
  }

  /** `dataZone`: the zone the historian writes naive timestamps in (set on the server). */
  setTz(mode: TimeZoneMode, dataZone: string): void {
    this.tzBtn.setAttribute("aria-pressed", String(mode === "utc"));
    this.tzBtn.querySelector(".label")!.textContent = mode === "utc" ? "UTC" : "Local";
    const shown = mode === "utc" ? "Times in UTC; click for browser time" : `Times in ${timeZoneLabel("local")}; click for UTC`;
    this.tzBtn.title = `${shown}. The data's own zone is ${dataZone || "UTC"}.`;
    this.tzBtn.setAttribute("aria-label", mode === "utc" ? "Time zone: UTC (switch to local time)" : "Time zone: local (switch to UTC)");
    this.start.title = this.end.title = `Time in ${timeZoneLabel(mode)}`;
    this.inputsDirty = false;
  }

  setTheme(theme: Theme): void {
    const next = theme === "dark" ? "light" : "dark";
    this.themeBtn.setAttribute("aria-label", `Switch to ${next} theme`);
    this.themeBtn.title = `Switch to ${next} theme`;
  }
}
