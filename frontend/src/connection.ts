// Connection status: the header pill (socket link, database state, and
// whether rows are arriving: "Live" only then, else "Historical" with the
// time of the newest row) and the banner messages about losing and
// regaining the server or the database. A short socket blip only changes
// the pill; a longer loss raises the banner.

import { Banner } from "./banner";
import type { DataState } from "./freshness";
import type { LinkState } from "./live";
import { fmtAge, fmtDate, fmtTime } from "./time";
import type { DbStatus } from "./types";

/** The link to the server: what the page can do, whatever the data's age. */
export type ConnectionState = "connecting" | "live" | "reconnecting" | "db-down";

/** What the pill says: the link when it is not up, else whether rows are arriving. */
export type PillState = Exclude<ConnectionState, "live"> | "live" | "historical" | "waiting";

const TEXT: Record<PillState, string> = {
  connecting: "Connecting…",
  live: "Live",
  historical: "Historical",
  waiting: "Waiting for data",
  reconnecting: "Reconnecting…",
  "db-down": "Database unavailable",
};

const LOST_BANNER_AFTER_MS = 5000;

/** The link state for the socket link and the database state last reported (if any). */
export function connectionState(link: LinkState, db: DbStatus["state"] | undefined): ConnectionState {
  if (link === "reconnecting") return "reconnecting";
  // "unknown": the server has not polled the database yet, so it is too early to say "Live".
  if (link === "connecting" || db === "unknown") return "connecting";
  return db === "down" ? "db-down" : "live";
}

/** "Live" only while rows arrive; an old run is "Historical". */
export function pillState(link: ConnectionState, data: DataState): PillState {
  if (link !== "live") return link;
  return data.kind === "live" ? "live" : data.kind === "historical" ? "historical" : "waiting";
}

/** The time beside the pill: the newest data row (not the last message of any kind). */
export function newestText(data: DataState, now: number): string {
  if (data.newest === null) return "";
  if (data.kind === "live") return `newest row ${fmtTime(data.newest)}`;
  const t = data.newest;
  const when = fmtDate(t) === fmtDate(now) ? fmtTime(t) : `${fmtDate(t)} ${fmtTime(t).slice(0, 5)}`;
  return `newest row ${when} (${fmtAge(now - t)})`;
}

function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

function element(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`template is missing #${id}`);
  return el;
}

const UNREACHABLE = "The server cannot be reached; showing the data already loaded. Retrying…";

export class ConnectionStatus {
  private readonly pill = element("connection");
  private readonly banner = new Banner(element("banner"));
  private link: LinkState = "connecting";
  private db: DbStatus | null = null;
  private data: DataState = { kind: "unknown", newest: null };
  private lostTimer: number | undefined;
  /** The banner says the server is lost (socket or requests): once back, say so. */
  private lostBanner = false;
  /** Requests found no server (the socket may not have noticed yet). */
  private fetchDown = false;

  constructor() {
    this.render();
  }

  get state(): ConnectionState {
    return connectionState(this.link, this.db?.state);
  }

  get pillState(): PillState {
    return pillState(this.state, this.data);
  }

  /** Whether rows are arriving, and the newest one: re-evaluated every second and on every append. */
  setData(data: DataState): void {
    this.data = data;
    this.render();
  }

  /** Start-up could not list the series; cleared with a "Reconnected" once the socket opens. */
  unreachable(): void {
    this.setFetchDown(true);
  }

  /** A request found no server (true), or one got through again (false). */
  setFetchDown(down: boolean): void {
    if (down === this.fetchDown) return;
    this.fetchDown = down;
    if (down) {
      this.banner.show("error", UNREACHABLE);
      this.lostBanner = true;
    } else this.maybeRecovered();
  }

  refused(error: string): void {
    this.banner.show("error", `Live updates were refused by the server (${error}); retrying.`, 8000);
  }

  /** The database state, from `hello` (`initial`) or a later `status`. */
  setDb(db: DbStatus, initial: boolean): void {
    const was = this.db?.state;
    this.db = db;
    if (db.state === "down") {
      this.banner.show(
        "error",
        `Database unavailable since ${fmtTime(db.since)}${db.error ? ` (${db.error})` : ""}. ` +
          "Showing the last data received; the server reconnects by itself.",
      );
    } else if (db.state === "up" && (was === "down" || (!initial && was === undefined))) {
      this.banner.show("ok", `Database connection restored at ${fmtTime(db.since)}.`, 6000);
    }
    this.render();
  }

  setLink(state: LinkState): void {
    const was = this.link;
    this.link = state;
    this.render();
    if (state === "reconnecting" && was !== "reconnecting") {
      const since = Date.now();
      // A blip is only worth the pill; a longer loss deserves the banner.
      this.lostTimer = window.setTimeout(() => {
        this.lostBanner = true;
        this.banner.show(
          "error",
          `The server cannot be reached since ${fmtTime(since)}; showing the data already loaded. Retrying…`,
        );
      }, LOST_BANNER_AFTER_MS);
    } else if (state === "open") {
      window.clearTimeout(this.lostTimer);
      this.maybeRecovered();
    }
  }

  private maybeRecovered(): void {
    if (this.fetchDown || this.link !== "open" || !this.lostBanner) return;
    this.lostBanner = false;
    this.banner.show("ok", "Reconnected; missed rows are being filled in.", 4000);
  }

  private render(): void {
    const state = this.pillState;
    const time = newestText(this.data, Date.now());
    this.pill.dataset["state"] = state;
    // Rendered every second and on every row: touch the text only when it changes (a live region).
    setText(this.pill.querySelector(".conn-text")!, TEXT[state]);
    setText(this.pill.querySelector(".conn-time")!, time);
    // The name changes with the state only: a live region must not chatter on every row.
    const label = `Connection: ${TEXT[state]}`;
    if (this.pill.getAttribute("aria-label") !== label) this.pill.setAttribute("aria-label", label);
    this.pill.title =
      state === "historical"
        ? "No series has received a row within its usual interval: this is an old or finished run, or the plant stopped writing."
        : time
          ? `The ${time}`
          : "";
  }
}
