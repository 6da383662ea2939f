// The status banner under the header: one message at a time. A message may
// hide itself after a while; a newer message cancels the older one's timer.

export type BannerKind = "error" | "ok" | "info";

export class Banner {
  private timer: number | undefined;

  constructor(private readonly el: HTMLElement) {}

  show(kind: BannerKind, text: string, hideAfterMs = 0): void {
    window.clearTimeout(this.timer);
    this.el.className = `banner is-${kind}`;
    this.el.textContent = text;
    this.el.hidden = false;
    if (hideAfterMs) this.timer = window.setTimeout(() => this.hide(), hideAfterMs);
  }

  hide(): void {
    window.clearTimeout(this.timer);
    this.el.hidden = true;
  }
}
