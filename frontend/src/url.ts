// The view window lives in the query string so a link reopens the same view:
// `?range=1h` (live, following the newest data) or `?start=<ms>&end=<ms>`
// (a fixed window), plus `tz=utc` when times are shown in UTC, and
// `y.<key>=<min>,<max>` for each chart whose y range the user fixed.

import type { TimeZoneMode } from "./time";

/** A live window's span: a duration in ms, or all data. */
export type Span = number | "all";

export type WindowSpec = { kind: "live"; span: Span } | { kind: "fixed"; start: number; end: number };

const UNITS: [string, number][] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
];

export function parseSpan(s: string | null): Span | null {
  if (!s) return null;
  if (s === "all") return "all";
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(s.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNITS.find(([u]) => u === m[2])![1];
  return ms >= 1000 ? Math.round(ms) : null;
}

export function formatSpan(span: Span): string {
  if (span === "all") return "all";
  // Hours up to two days reads better ("24h", "36h"); days beyond ("7d").
  for (const [u, ms] of UNITS) if (span % ms === 0 && !(u === "d" && span < 2 * ms)) return `${span / ms}${u}`;
  return `${Math.round(span / 1000)}s`;
}

export function readUrl(search = location.search): { window: WindowSpec | null; tz: TimeZoneMode | null } {
  const q = new URLSearchParams(search);
  const tzRaw = q.get("tz");
  const tz: TimeZoneMode | null = tzRaw === "utc" ? "utc" : tzRaw === "local" ? "local" : null;
  const start = Number(q.get("start"));
  const end = Number(q.get("end"));
  if (q.has("start") && q.has("end") && Number.isFinite(start) && Number.isFinite(end) && end > start) {
    return { window: { kind: "fixed", start: Math.floor(start), end: Math.ceil(end) }, tz };
  }
  const span = parseSpan(q.get("range"));
  return { window: span === null ? null : { kind: "live", span }, tz };
}

export function writeUrl(spec: WindowSpec, tz: TimeZoneMode): void {
  const q = new URLSearchParams(location.search);
  q.delete("start");
  q.delete("end");
  q.delete("range");
  if (spec.kind === "live") q.set("range", formatSpan(spec.span));
  else {
    q.set("start", String(Math.floor(spec.start)));
    q.set("end", String(Math.ceil(spec.end)));
  }
  if (tz === "utc") q.set("tz", "utc");
  else q.delete("tz");
  replaceQuery(q);
}

/** A fixed y range of one chart. */
export interface YRange {
  min: number;
  max: number;
}

export function parseYRange(s: string | null): YRange | null {
  const m = /^\s*(-?[\d.]+(?:e[-+]?\d+)?)\s*,\s*(-?[\d.]+(?:e[-+]?\d+)?)\s*$/i.exec(s ?? "");
  if (!m) return null;
  const min = Number(m[1]);
  const max = Number(m[2]);
  return Number.isFinite(min) && Number.isFinite(max) && max > min ? { min, max } : null;
}

/** The y ranges in the query string, by series key. */
export function readYRanges(search = location.search): Map<string, YRange> {
  const out = new Map<string, YRange>();
  for (const [k, v] of new URLSearchParams(search)) {
    const r = k.startsWith("y.") ? parseYRange(v) : null;
    if (r) out.set(k.slice(2), r);
  }
  return out;
}

/** Keeps (or, with null, drops) one chart's y range in the URL. */
export function writeYRange(key: string, r: YRange | null): void {
  const q = new URLSearchParams(location.search);
  if (r) q.set(`y.${key}`, `${r.min},${r.max}`);
  else q.delete(`y.${key}`);
  replaceQuery(q);
}

function replaceQuery(q: URLSearchParams): void {
  // Commas are fine in a query: keep "y.do=30,50" readable.
  const next = `${location.pathname}?${q.toString().replace(/%2C/gi, ",")}${location.hash}`;
  if (next !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, "", next);
}
