// Colour arithmetic for the canvas and for checking the palette: alpha for
// fills (canvas cannot use CSS variables), WCAG contrast and hue distance.

export type Rgb = [number, number, number];

/** `#rgb`, `#rrggbb` or `rgb()/rgba()` → [r, g, b] (0–255); null when not understood. */
export function parseColor(color: string): Rgb | null {
  const c = color.trim();
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(c);
  if (short) return [1, 2, 3].map((i) => parseInt(short[i]! + short[i]!, 16)) as Rgb;
  const hex = /^#([0-9a-f]{6})$/i.exec(c);
  if (hex) {
    const n = parseInt(hex[1]!, 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const rgb = /^rgba?\(([^)]+)\)$/i.exec(c);
  if (rgb) {
    const [r, g, b] = rgb[1]!.split(/[ ,/]+/).map(Number);
    if ([r, g, b].every((x) => x !== undefined && Number.isFinite(x))) return [r!, g!, b!];
  }
  return null;
}

/** The colour with an alpha (canvas fills need a real colour, not a variable). */
export function withAlpha(color: string, alpha: number): string {
  const rgb = parseColor(color);
  return rgb ? `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${alpha})` : color.trim();
}

function luminance([r, g, b]: Rgb): number {
  const lin = (x: number) => {
    const s = x / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio of two colours (1 to 21). */
export function contrast(a: string, b: string): number {
  const ca = parseColor(a);
  const cb = parseColor(b);
  if (!ca || !cb) return 1;
  const [hi, lo] = [luminance(ca), luminance(cb)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** Hue in degrees (0–360). */
export function hue(color: string): number {
  const c = parseColor(color);
  if (!c) return 0;
  const [r, g, b] = c.map((x) => x / 255) as Rgb;
  const max = Math.max(r, g, b);
  const d = max - Math.min(r, g, b);
  if (d === 0) return 0;
  const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return (h * 60 + 360) % 360;
}

/** Distance between two hues on the colour wheel (0–180 degrees). */
export function hueDistance(a: string, b: string): number {
  const d = Math.abs(hue(a) - hue(b)) % 360;
  return d > 180 ? 360 - d : d;
}
