// REST client for the routes in docs/contract.md. Every URL is relative to the
// page, so the dashboard works under any path prefix a reverse proxy gives it.

import type { SeriesData, SeriesDataBatch, SeriesInfo, SeriesStats } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly parameter: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}

/** fetch() rejects with a TypeError when no answer came at all; a proxy answers 502/503/504 for a server that is down. */
export function isUnreachable(err: unknown): boolean {
  return err instanceof TypeError || (err instanceof ApiError && [502, 503, 504].includes(err.status));
}

/** A failure as a sentence a person can act on (never "Failed to fetch"). */
export function errorText(err: unknown): string {
  if (isUnreachable(err)) return "the server cannot be reached";
  if (err instanceof ApiError) {
    return err.status >= 500 ? `the server failed (error ${err.status}: ${err.message})` : `the server refused the request (${err.message})`;
  }
  return err instanceof Error ? err.message : String(err);
}

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(url, { signal: signal ?? null, headers: { Accept: "application/json" } });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    let parameter: string | null = null;
    try {
      const body = (await res.json()) as { error?: string; parameter?: string };
      if (body.error) message = body.error;
      parameter = body.parameter ?? null;
    } catch {
      // Not JSON (a proxy error page): keep the status line.
    }
    throw new ApiError(res.status, message, parameter);
  }
  return (await res.json()) as T;
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return q.toString();
}

export function listSeries(signal?: AbortSignal): Promise<SeriesInfo[]> {
  return getJson<SeriesInfo[]>("api/series", signal);
}

/** One caller of seriesData, waiting for its series' part of a shared request. */
interface Waiting {
  key: string;
  signal: AbortSignal | undefined;
  resolve(d: SeriesData): void;
  reject(err: unknown): void;
}

/** Calls made in the same task for the same window, by query: sent together as one /api/data. */
const pending = new Map<string, Waiting[]>();

function aborted(): DOMException {
  return new DOMException("The request was aborted", "AbortError");
}

/**
 * A window of one series. The charts ask for theirs together (one call per series in
 * the same task): those calls become a single GET /api/data, one round trip for all.
 */
export function seriesData(
  key: string,
  start: number,
  end: number,
  points: number,
  signal?: AbortSignal,
): Promise<SeriesData> {
  const q = query({ start: Math.floor(start), end: Math.ceil(end), points: Math.max(1, Math.round(points)) });
  return new Promise<SeriesData>((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    let group = pending.get(q);
    if (!group) {
      const waiting: Waiting[] = (group = []);
      pending.set(q, waiting);
      queueMicrotask(() => {
        pending.delete(q);
        void send(q, waiting);
      });
    }
    group.push({ key, signal, resolve, reject });
    signal?.addEventListener("abort", () => reject(aborted()), { once: true });
  });
}

function one(w: Waiting, q: string): void {
  getJson<SeriesData>(`api/series/${encodeURIComponent(w.key)}/data?${q}`, w.signal).then(w.resolve, w.reject);
}

async function send(q: string, group: Waiting[]): Promise<void> {
  const waiting = group.filter((w) => !w.signal?.aborted);
  const keys = [...new Set(waiting.map((w) => w.key))];
  if (keys.length === 0) return;
  if (keys.length === 1) {
    for (const w of waiting) one(w, q);
    return;
  }
  // The shared request is dropped only when every caller has given up on it.
  const ctl = new AbortController();
  let left = waiting.length;
  for (const w of waiting) w.signal?.addEventListener("abort", () => --left === 0 && ctl.abort(), { once: true });
  let batch: SeriesDataBatch;
  try {
    batch = await getJson<SeriesDataBatch>(`api/data?${query({ series: keys.join(",") })}&${q}`, ctl.signal);
  } catch (err) {
    if (isAbort(err)) return; // each caller was told when its own signal fired
    if (err instanceof TypeError) {
      for (const w of waiting) w.reject(err); // no answer at all: the server cannot be reached
      return;
    }
    // A refusal may concern one series only (503: not loaded while the database is down):
    // each asks alone, so each gets its own answer.
    for (const w of waiting) one(w, q);
    return;
  }
  for (const w of waiting) {
    const d = batch.series[w.key];
    if (d) w.resolve(d);
    else w.reject(new ApiError(502, `the answer holds no window for ${w.key}`));
  }
}

export function seriesStats(key: string, start: number, end: number, signal?: AbortSignal): Promise<SeriesStats> {
  const q = query({ start: Math.floor(start), end: Math.ceil(end) });
  return getJson<SeriesStats>(`api/series/${encodeURIComponent(key)}/stats?${q}`, signal);
}

/** URL of the CSV export of exactly [start, end] (inclusive) for the given series. */
export function exportUrl(start: number, end: number, series: readonly string[]): string {
  return `api/export.csv?${query({
    start: Math.floor(start),
    end: Math.ceil(end),
    series: series.join(","),
    layout: "wide",
  })}`;
}

/** Downloads the CSV export of [start, end]. A plain link streams the file and keeps
 *  the server's file name (Content-Disposition), whatever the size of the window. */
export function downloadCsv(start: number, end: number, series: readonly string[]): void {
  const a = document.createElement("a");
  a.href = exportUrl(start, end, series);
  a.download = "";
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
}

/** Parses an ISO 8601 time from /api/series into epoch ms, microseconds kept as a fraction (null stays null). */
export function isoToMs(iso: string | null): number | null {
  if (!iso) return null;
  // A zone-less ISO string would be read as browser-local time: the contract says UTC.
  const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(iso) ? iso : `${iso}Z`;
  const ms = Date.parse(zoned);
  if (!Number.isFinite(ms)) return null;
  // Date.parse stops at milliseconds: add the microseconds back, computed as the
  // server computes a wire time (µs / 1000), so the number is the same double.
  const frac = /[T ]\d\d:\d\d:\d\d\.(\d+)/.exec(zoned)?.[1] ?? "";
  const us = Number(frac.slice(3, 6).padEnd(3, "0"));
  return us ? (ms * 1000 + us) / 1000 : ms;
}
