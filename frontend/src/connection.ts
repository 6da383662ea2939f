// Connection status: the header pill (WebSocket link and database state, with
// the time of the last update received) and the banner messages about losing
// and regaining the server or the database. A short socket blip only changes
// the pill; a longer loss raises the banner.

import { Banner } from "./banner";
import type { LinkState } from "./live";
import { fmtTime } from "./time";
import type { DbStatus } from "./types";

export type ConnectionState = "connecting" | "live" | "reconnecting" | "db-down";

const TEXT: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  "db-down": "Database unavailable",
};

const LOST_BANNER_AFTER_MS = 5000;

/** What the pill shows for the socket link and the database state last reported (if any). */
export function connectionState(link: LinkState, db: DbStatus["state"] | undefined): ConnectionState {
  if (link === "reconnecting") return "reconnecting";
  // "unknown": the server has not polled the database yet, so it is too early to say "Live".
  if (link === "connecting" || db === "unknown") return "connecting";
  return db === "down" ? "db-down" : "live";
}

function element(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`template is missing #${id}`);
  return el;
}

export class ConnectionStatus {
  private readonly pill = element("connection");
  private readonly banner = new Banner(element("banner"));
  private link: LinkState = "connecting";
  private db: DbStatus | null = null;
  private lastUpdate: number | null = null;
  private lostTimer: number | undefined;
  /** The banner says the server is lost: once back, say so. */
  private lostBanner = false;

  constructor() {
    this.render();
  }

  get state(): ConnectionState {
    return connectionState(this.link, this.db?.state);
  }

  /** Live rows arrived: the pill shows when. */
  received(): void {
    this.lastUpdate = Date.now();
    this.render();
  }

  /** Start-up could not list the series; cleared with a "Reconnected" once the socket opens. */
  unreachable(error: string): void {
    this.banner.show("error", `Cannot reach the server: ${error}`);
    this.lostBanner = true;
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
          `Lost the connection to the server at ${fmtTime(since)}; reconnecting. The data shown may be out of date.`,
        );
      }, LOST_BANNER_AFTER_MS);
    } else if (state === "open") {
      window.clearTimeout(this.lostTimer);
      if (this.lostBanner) this.banner.show("ok", "Reconnected; missed rows are being filled in.", 4000);
      this.lostBanner = false;
    }
  }

  private render(): void {
    const state = this.state;
    const last = this.lastUpdate;
    this.pill.dataset["state"] = state;
    this.pill.querySelector(".conn-text")!.textContent = TEXT[state];
    this.pill.querySelector(".conn-time")!.textContent = last ? `updated ${fmtTime(last)}` : "";
    // The name changes with the state only: a live region must not chatter on every row.
    this.pill.setAttribute("aria-label", `Connection: ${TEXT[state]}`);
    this.pill.title = last ? `Last update received at ${fmtTime(last)}` : "";
  }
}
