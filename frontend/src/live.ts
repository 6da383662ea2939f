// WebSocket client: connects to the hub, subscribes with since/seq so a
// reconnect fills its gap, reconnects with capped exponential backoff and
// treats a silent socket (no frame, not even a heartbeat) as dead.

import type { AppendMessage, DbStatus, ServerMessage } from "./types";

export type LinkState = "connecting" | "open" | "reconnecting";

export interface Subscription {
  since: Record<string, number>;
  seq: Record<string, number>;
}

export interface LiveHandlers {
  subscription(): Subscription;
  hello(db: DbStatus): void;
  append(msg: AppendMessage): void;
  status(db: DbStatus): void;
  resync(keys: string[]): void;
  /** The server rejected our subscribe (not in the contract's list, but sent by the hub). */
  refused(error: string): void;
  link(state: LinkState): void;
}

const DEAD_AFTER_MS = 40_000; // heartbeats come every 15 s
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 5_000;

export class LiveConnection {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private retryTimer: number | undefined;
  private watchdog: number | undefined;

  constructor(
    private readonly path: string,
    private readonly on: LiveHandlers,
  ) {}

  start(): void {
    this.connect();
  }

  /** The path is relative to the page (boot's "ws"), so the feed follows the page under any prefix. */
  private url(): string {
    const url = new URL(this.path, document.baseURI);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.search = "";
    url.hash = "";
    return url.href;
  }

  private connect(): void {
    this.on.link(this.attempt === 0 ? "connecting" : "reconnecting");
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.armWatchdog();
      this.on.link("open");
      // Subscribing with since/seq makes the server replay what we missed.
      ws.send(JSON.stringify({ type: "subscribe", ...this.on.subscription() }));
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (this.ws !== ws) return;
      this.armWatchdog();
      let data: ServerMessage | ServerMessage[];
      try {
        data = JSON.parse(String(ev.data)) as ServerMessage | ServerMessage[];
      } catch {
        return;
      }
      // One frame per server tick: an array of messages (or a single one).
      for (const msg of Array.isArray(data) ? data : [data]) this.dispatch(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      window.clearTimeout(this.watchdog);
      this.scheduleReconnect();
    };
    // onerror is always followed by onclose; nothing to do here.
    ws.onerror = () => undefined;
  }

  private dispatch(msg: ServerMessage): void {
    switch (msg.type) {
      case "hello":
        this.on.hello(msg.db);
        break;
      case "append":
        // Data flows: the link is healthy, so a later drop retries quickly again.
        this.attempt = 0;
        this.on.append(msg);
        break;
      case "status":
        this.on.status(msg.db);
        break;
      case "resync":
        this.on.resync(msg.series);
        break;
      case "heartbeat":
        this.attempt = 0;
        break;
      case "error":
        // Not subscribed, so no live data would come: start over after a pause.
        this.on.refused(msg.error);
        this.ws?.close(4001, "subscribe refused");
        break;
    }
  }

  private armWatchdog(): void {
    window.clearTimeout(this.watchdog);
    this.watchdog = window.setTimeout(() => {
      // Silent for too long: the socket is dead even if the OS has not noticed.
      const ws = this.ws;
      this.ws = null;
      ws?.close(4000, "no message for 40 s");
      this.scheduleReconnect();
    }, DEAD_AFTER_MS);
  }

  private scheduleReconnect(): void {
    window.clearTimeout(this.retryTimer);
    this.on.link("reconnecting");
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    this.attempt++;
    // Jitter so a control room full of screens does not reconnect in lockstep.
    this.retryTimer = window.setTimeout(() => this.connect(), delay * (0.8 + Math.random() * 0.4));
  }
}
