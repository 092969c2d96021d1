// A surrogate without its partner: Postgres (through UTF-8) and JSON log readers cannot carry it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text from outside (a gateway's body, an error) made safe to store and log: no NUL (a Postgres
 * text value cannot hold one), no lone surrogate, at most `max` UTF-16 units. NUL goes first, so
 * it cannot hide a secret from a search for it; the cut comes before the surrogate check, so it
 * cannot leave half a pair behind.
 */
export function storableText(text: string, max = Number.MAX_SAFE_INTEGER): string {
  return withoutNul(text).slice(0, max).replace(LONE_SURROGATE, '');
}

export function withoutNul(text: string): string {
  return text.replaceAll('\u0000', '');
}

/** Cut to at most `max` characters, counted as code points: never half of a surrogate pair. */
export function cutCodePoints(text: string, max: number): string {
  return text.length <= max ? text : Array.from(text).slice(0, max).join('');
}
