// Time formatting in the viewer's zone or UTC. All inputs are epoch ms.

export type TimeZoneMode = "local" | "utc";

let mode: TimeZoneMode = "local";

export function setTimeZoneMode(m: TimeZoneMode): void {
  mode = m;
}

export function timeZoneMode(): TimeZoneMode {
  return mode;
}

export function timeZoneLabel(m: TimeZoneMode = mode): string {
  if (m === "utc") return "UTC";
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "local";
  } catch {
    return "local";
  }
}

interface Parts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  ms: number;
}

function parts(ms: number, m: TimeZoneMode = mode): Parts {
  const dt = new Date(ms);
  return m === "utc"
    ? {
        y: dt.getUTCFullYear(),
        mo: dt.getUTCMonth() + 1,
        d: dt.getUTCDate(),
        h: dt.getUTCHours(),
        mi: dt.getUTCMinutes(),
        s: dt.getUTCSeconds(),
        ms: dt.getUTCMilliseconds(),
      }
    : {
        y: dt.getFullYear(),
        mo: dt.getMonth() + 1,
        d: dt.getDate(),
        h: dt.getHours(),
        mi: dt.getMinutes(),
        s: dt.getSeconds(),
        ms: dt.getMilliseconds(),
      };
}

const p2 = (n: number) => String(n).padStart(2, "0");
const p3 = (n: number) => String(n).padStart(3, "0");

export function fmtDate(ms: number): string {
  const p = parts(ms);
  return `${p.y}-${p2(p.mo)}-${p2(p.d)}`;
}

export function fmtTime(ms: number, withMs = false): string {
  const p = parts(ms);
  return `${p2(p.h)}:${p2(p.mi)}:${p2(p.s)}${withMs ? `.${p3(p.ms)}` : ""}`;
}

export function fmtDateTime(ms: number, withMs = false): string {
  return `${fmtDate(ms)} ${fmtTime(ms, withMs)}`;
}

/** Axis tick labels for a tick spacing of `incr` ms; a date line where the day changes. */
export function fmtTicks(ticks: number[], incr: number): string[] {
  let prevDay = "";
  return ticks.map((t) => {
    const p = parts(t);
    const day = `${p.y}-${p2(p.mo)}-${p2(p.d)}`;
    const dayChanged = day !== prevDay;
    prevDay = day;
    if (incr >= 86_400_000) return `${p2(p.mo)}-${p2(p.d)}${dayChanged && p.mo === 1 && p.d === 1 ? `\n${p.y}` : ""}`;
    let time: string;
    if (incr >= 60_000) time = `${p2(p.h)}:${p2(p.mi)}`;
    else if (incr >= 1000) time = `${p2(p.h)}:${p2(p.mi)}:${p2(p.s)}`;
    else time = `${p2(p.mi)}:${p2(p.s)}.${p3(p.ms)}`;
    return dayChanged ? `${time}\n${day}` : time;
  });
}

/** Value for <input type="datetime-local"> in the current zone (second precision). */
export function toInputValue(ms: number): string {
  const p = parts(ms);
  return `${p.y}-${p2(p.mo)}-${p2(p.d)}T${p2(p.h)}:${p2(p.mi)}:${p2(p.s)}`;
}

/** Parses a datetime-local value in the current zone; NaN when invalid. */
export function fromInputValue(s: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,3}))?)?$/.exec(s.trim());
  if (!m) return NaN;
  const n = (i: number) => Number(m[i] ?? 0);
  const frac = m[7] ? Number(m[7].padEnd(3, "0")) : 0;
  return mode === "utc"
    ? Date.UTC(n(1), n(2) - 1, n(3), n(4), n(5), n(6), frac)
    : new Date(n(1), n(2) - 1, n(3), n(4), n(5), n(6), frac).getTime();
}

/** "12 s ago", "4 min ago", "3 h ago", "2 d ago". */
export function fmtAge(ageMs: number): string {
  if (ageMs < 1500) return "just now";
  const s = Math.round(ageMs / 1000);
  if (s < 90) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  const d = Math.round(h / 24);
  if (d < 730) return `${d} d ago`;
  return `${Math.round(d / 365)} y ago`;
}

/** Compact duration: "15 min", "1 h", "6 h 30 min", "7 d". */
export function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60 || (m < 120 && m % 60 !== 0)) return `${m} min`;
  const h = Math.floor(m / 60);
  const rm = m % 60;
  if (h < 48) return rm ? `${h} h ${rm} min` : `${h} h`;
  const d = Math.floor(h / 24);
  const rh = h % 24;
  return rh ? `${d} d ${rh} h` : `${d} d`;
}
