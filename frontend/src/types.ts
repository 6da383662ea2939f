// Shapes of the server contract (docs/contract.md). Times are epoch ms, UTC.

import type { Sample, Value } from "./buffer";

/** How a chart joins samples: hold each value until the next sample, or a straight line. */
export type Interpolation = "step" | "linear";

export interface BootSeries {
  key: string;
  name: string;
  unit: string;
  low: number | null;
  high: number | null;
  /** Configured seconds without a sample before the tile warns (null: derived).
   * The browser reads /api/series' stale_after_ms instead, which applies it. */
  stale_after: number | null;
}

/** What a chart or a tile needs to draw a series. */
export interface SeriesStyle extends Omit<BootSeries, "stale_after"> {
  color: string;
}

export interface Boot {
  demo: boolean;
  ws_path: string;
  default_points: number;
  max_points: number;
  data_timezone: string;
  series: BootSeries[];
  /** What GET /api/series answered when the page was made. */
  info: SeriesInfo[];
}

export type SeriesState = "ok" | "empty" | "missing" | "error" | "loading";

export interface SeriesInfo {
  key: string;
  table: string;
  name: string;
  unit: string;
  first: string | null;
  last: string | null;
  count: number;
  state: SeriesState;
  error: string | null;
  interval_ms: number | null;
  /** A line breaks where two consecutive samples are further apart (a real outage). */
  gap_ms: number;
  /** The only stale rule: configured, or derived from the series' own sampling by the server. */
  stale_after_ms: number;
  interpolation: Interpolation;
  low: number | null;
  high: number | null;
  seq: number;
}

export interface SeriesData {
  key: string;
  /** The window used; null when none was asked for and the series has no row to anchor one. */
  start: number | null;
  end: number | null;
  t: number[];
  v: Value[];
  /** Every real outage touching the window, found on the raw rows; both ends are in `t` (or `before`). */
  gaps: [number, number][];
  /** The last sample before `start`: the value in force at the left edge. */
  before: Sample | null;
  gap_ms: number;
  downsampled: boolean;
  seq: number;
  state: SeriesState;
  count: number;
}

/** GET /api/data: several series' windows, by key, each as /api/series/{key}/data answers it. */
export interface SeriesDataBatch {
  series: Record<string, SeriesData>;
}

export interface SeriesStats {
  key: string;
  /** As for SeriesData. */
  start: number | null;
  end: number | null;
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  last: number | null;
  last_t: number | null;
}

/** What kind of outage a "down" database is (docs/contract.md). */
export type OutageKind = "unreachable" | "refused" | "too-many-connections" | "auth" | "no-database";

export interface DbStatus {
  /** "unknown" until the server's first poll of the database. */
  state: "unknown" | "up" | "down";
  since: number;
  error: string | null;
  kind: OutageKind | null;
}

/** A change of the database's state: once known, it is up or down. */
export interface DbChange extends Omit<DbStatus, "state"> {
  state: "up" | "down";
}

export type ServerMessage =
  | { type: "hello"; demo: boolean; db: DbStatus }
  | {
      type: "append";
      series: string;
      t: number[];
      v: Value[];
      seq: number;
      late: boolean;
      replay: boolean;
    }
  | { type: "status"; db: DbChange }
  | { type: "resync"; series: string[] }
  | { type: "heartbeat"; time: number }
  | { type: "error"; error: string };

export type AppendMessage = Extract<ServerMessage, { type: "append" }>;
