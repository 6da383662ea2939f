// Number formatting for readouts: enough decimals for process values
// (pH to 0.001, pressure steps of 0.002 psi) without noise on large numbers.

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
