import { describe, expect, it } from 'vitest';
import { clientMetadataCache } from '../../src/oidc/client-cache.ts';
import { TestClock } from '../support/sms.ts';

/** A client table that counts its reads; `hold` keeps the next reads pending until released. */
function clientTable() {
  const table = {
    reads: [] as string[],
    failNext: false,
    pending: [] as (() => void)[],
    hold: false,
    async load(clientId: string) {
      table.reads.push(clientId);
      if (table.hold) await new Promise<void>((resolve) => table.pending.push(resolve));
      if (table.failNext) {
        table.failNext = false;
        throw new Error('database unavailable');
      }
      return clientId.startsWith('app') ? { client_id: clientId, read: table.reads.length } : undefined;
    },
  };
  return table;
}

describe('client metadata cache', () => {
  it('keeps an answer, "no such client" included, for its time and no longer', async () => {
    const clock = new TestClock();
    const table = clientTable();
    const cache = clientMetadataCache(table.load, { ttlSeconds: 5, clock });
    expect(await cache.findMetadata('app-1')).toEqual({ client_id: 'app-1', read: 1 });
    expect(await cache.findMetadata('nobody')).toBeUndefined();
    clock.advance(4.9);
    expect(await cache.findMetadata('app-1')).toEqual({ client_id: 'app-1', read: 1 });
    expect(await cache.findMetadata('nobody')).toBeUndefined();
    expect(table.reads).toEqual(['app-1', 'nobody']);
    clock.advance(0.2);
    expect(await cache.findMetadata('app-1')).toEqual({ client_id: 'app-1', read: 3 });
    expect(table.reads).toEqual(['app-1', 'nobody', 'app-1']);
  });

  it('shares one load between concurrent lookups, and keeps no failed load', async () => {
    const table = clientTable();
    const cache = clientMetadataCache(table.load, { clock: new TestClock() });
    table.hold = true;
    table.failNext = true;
    const lookups = [cache.findMetadata('app-1'), cache.findMetadata('app-1'), cache.findMetadata('app-1')];
    await Promise.resolve();
    expect(table.reads).toEqual(['app-1']);
    table.hold = false;
    table.pending.forEach((release) => release());
    for (const lookup of lookups) await expect(lookup).rejects.toThrow('database unavailable');
    expect(await cache.findMetadata('app-1')).toEqual({ client_id: 'app-1', read: 2 });
    expect(table.reads).toEqual(['app-1', 'app-1']);
  });

  it('holds at most max clients, pushing out the least recently used', async () => {
    const table = clientTable();
    const cache = clientMetadataCache(table.load, { max: 2, clock: new TestClock() });
    await cache.findMetadata('app-1');
    await cache.findMetadata('app-2');
    await cache.findMetadata('app-1');
    await cache.findMetadata('app-3');
    expect(table.reads).toEqual(['app-1', 'app-2', 'app-3']);
    await cache.findMetadata('app-1');
    await cache.findMetadata('app-2');
    expect(table.reads).toEqual(['app-1', 'app-2', 'app-3', 'app-2']);
  });
});
