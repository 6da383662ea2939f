// Number formatting for readouts: enough decimals for process values
// (pH to 0.001, pressure steps of 0.002 psi) without noise on large numbers;
// and the y axis title, shortened when the plot is short.

export function decimalsFor(x: number): number {
  const a = Math.abs(x);
  if (a >= 1000) return 0;
  if (a >= 100) return 1;
  if (a >= 10) return 2;
  return 3;
}

export function fmtValue(v: number | null | undefined, decimals?: number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  return v.toFixed(decimals ?? decimalsFor(v));
}

export function fmtCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** "Name (unit)" for the y axis, shortened to initials ("DO (%)") when the plot is too short for it. */
export function axisLabel(name: string, unit: string, height: number): string {
  const full = unit ? `${name} (${unit})` : name;
  const room = (height - 50) / 6.5; // ~6.5 px per character at 11 px
  if (full.length <= room) return full;
  const words = name.split(/\s+/);
  const short = words.length > 1 ? words.map((w) => w[0]!.toUpperCase()).join("") : name.length > 6 ? `${name.slice(0, 4)}.` : name;
  return unit ? `${short} (${unit})` : short;
}
