// Builds DOM nodes from text, never from markup: series names and units come
// from configuration (SERIES_FILE) and must never be parsed as HTML.

type Attrs = Record<string, string | undefined>;

/** An element with attributes (undefined: left out) and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) el.setAttribute(name, value);
  el.append(...children);
  return el;
}
