/**
 * Keys that rotate: each stored key has the second it starts to sign from. At any moment, per
 * group (a signing algorithm, or the cookie keys), the newest key that has started signs; newer
 * ones are published and verify but do not sign yet; older ones verify until `keepSeconds` after
 * the next one took over, then they are gone. Nothing has to happen at those moments: every
 * instance works the state out from the clock each time it reads the keys.
 */
export interface RingEntry<T> {
  material: T;
  /** Seconds since the epoch; 0 for keys stored before rotation existed (they signed from the start). */
  signsFrom: number;
}

export type KeyState = 'signing' | 'next' | 'retiring';

export interface KeyAt<T> extends RingEntry<T> {
  group: string;
  state: KeyState;
  /** When a retiring key stops verifying (seconds since the epoch). */
  retiresAt?: number;
}

/**
 * The keys still in use at `now`, per group: the signing key first, then the next ones, then the
 * retiring ones. Within one `signsFrom` the stored order decides (first is newest), as it did
 * before keys rotated.
 */
export function ringAt<T>(entries: readonly RingEntry<T>[], now: number, keepSeconds: number, groupOf: (material: T) => string): KeyAt<T>[] {
  const groups = new Map<string, { entry: RingEntry<T>; index: number }[]>();
  entries.forEach((entry, index) => {
    const group = groupOf(entry.material);
    groups.set(group, [...(groups.get(group) ?? []), { entry, index }]);
  });
  const out: KeyAt<T>[] = [];
  for (const [group, members] of groups) {
    const newestFirst = members.sort((a, b) => b.entry.signsFrom - a.entry.signsFrom || a.index - b.index).map((m) => m.entry);
    let signing = newestFirst.findIndex((e) => e.signsFrom <= now);
    // Only keys that have not started (a clock far behind the one that rotated): the oldest signs.
    if (signing === -1) signing = newestFirst.length - 1;
    const next = newestFirst.slice(0, signing).reverse().map((e) => ({ ...e, group, state: 'next' as const }));
    const retiring = newestFirst.slice(signing + 1).flatMap((e, i) => {
      const retiresAt = Math.max(newestFirst[signing + i]!.signsFrom, e.signsFrom) + keepSeconds;
      return retiresAt > now ? [{ ...e, group, state: 'retiring' as const, retiresAt }] : [];
    });
    out.push({ ...newestFirst[signing]!, group, state: 'signing' }, ...next, ...retiring);
  }
  return out;
}

/** The entries `ringAt` still uses, as they are stored (what a rotation keeps). */
export function liveEntries<T>(entries: readonly RingEntry<T>[], now: number, keepSeconds: number, groupOf: (material: T) => string): RingEntry<T>[] {
  const live = new Set(ringAt(entries, now, keepSeconds, groupOf).map((k) => k.material));
  return entries.filter((e) => live.has(e.material));
}
