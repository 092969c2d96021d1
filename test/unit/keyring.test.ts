import { describe, expect, it } from 'vitest';
import { liveEntries, ringAt, type RingEntry } from '../../src/oidc/keyring.ts';

const KEEP = 100;
const group = (m: string) => m.split('-')[0]!;
const states = (entries: RingEntry<string>[], now: number) => ringAt(entries, now, KEEP, group).map((k) => [k.material, k.state, k.retiresAt]);

describe('the key ring', () => {
  // As stored: newest first. rs-0 and es-0 are keys from before rotation (signing from the start).
  const entries: RingEntry<string>[] = [
    { material: 'rs-2', signsFrom: 2000 },
    { material: 'rs-1', signsFrom: 1000 },
    { material: 'rs-0', signsFrom: 0 },
    { material: 'es-0', signsFrom: 0 },
  ];

  it('signs with the newest key that has started, publishes later ones and keeps replaced ones for a while', () => {
    expect(states(entries, 500)).toEqual([['rs-0', 'signing', undefined], ['rs-1', 'next', undefined], ['rs-2', 'next', undefined], ['es-0', 'signing', undefined]]);
    expect(states(entries, 1050)).toEqual([['rs-1', 'signing', undefined], ['rs-2', 'next', undefined], ['rs-0', 'retiring', 1100], ['es-0', 'signing', undefined]]);
    expect(states(entries, 1100)).toEqual([['rs-1', 'signing', undefined], ['rs-2', 'next', undefined], ['es-0', 'signing', undefined]]);
    expect(states(entries, 2050)).toEqual([['rs-2', 'signing', undefined], ['rs-1', 'retiring', 2100], ['es-0', 'signing', undefined]]);
  });

  it('keeps the stored order among keys of one start, and lets the oldest sign when none has started', () => {
    expect(states([{ material: 'c-new', signsFrom: 0 }, { material: 'c-old', signsFrom: 0 }], 50)).toEqual([['c-new', 'signing', undefined], ['c-old', 'retiring', 100]]);
    expect(states([{ material: 'rs-b', signsFrom: 900 }, { material: 'rs-a', signsFrom: 800 }], 10)).toEqual([['rs-a', 'signing', undefined], ['rs-b', 'next', undefined]]);
  });

  it('drops only what has retired when a rotation rewrites the ring', () => {
    expect(liveEntries(entries, 1200, KEEP, group).map((e) => e.material)).toEqual(['rs-2', 'rs-1', 'es-0']);
  });
});
