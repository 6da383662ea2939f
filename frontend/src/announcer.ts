// The page's one polite live region (#announcer, visually hidden): screen
// readers hear a message when something changes (a series turns stale, the
// connection drops, a keyboard cursor reads a value), never on every row.

let region: HTMLElement | null = null;

function el(): HTMLElement | null {
  region ??= document.getElementById("announcer");
  return region;
}

/** Says `text` once. A repeat of the same text is re-announced (a cursor read twice reads twice). */
export function announce(text: string): void {
  const r = el();
  if (!r || !text) return;
  // Replacing the text node is the mutation screen readers speak; identical text must still change.
  r.textContent = r.textContent === text ? `${text}\u00a0` : text;
}

/** What a series' status change says: "pH: Stale", or "pH: back to normal" when its warning clears. */
export function statusMessage(name: string, was: string, now: string): string | null {
  if (was === now) return null;
  return now ? `${name}: ${now}` : `${name}: back to normal`;
}

/**
 * Remembers the last state seen per key and says what changed. The first
 * sighting counts only when it is a warning (a page that opens on a stale
 * series says so; one that opens healthy stays quiet).
 */
export class StateWatch {
  private readonly seen = new Map<string, string>();

  /** The message for a change of `key`'s state, or null; `quiet`: a first state not worth saying. */
  update(key: string, name: string, state: string, quiet = ""): string | null {
    const was = this.seen.get(key);
    this.seen.set(key, state);
    if (was === undefined) return state && state !== quiet ? `${name}: ${state}` : null;
    return statusMessage(name, was, state);
  }
}
