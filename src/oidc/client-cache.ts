import { LRUCache } from 'lru-cache';
import type { Clock } from '../shared/clock.ts';
import type { ClientSource } from './adapter.ts';

type Metadata = Record<string, unknown>;

export interface ClientCacheOptions {
  /** How long an answer is kept (5 s). */
  ttlSeconds?: number;
  /** How many clients are kept at most (1,000); the least recently used goes first. */
  max?: number;
  /** Tests move time by hand; otherwise the monotonic `performance.now()`. */
  clock?: Clock;
}

/**
 * Client metadata, kept a few seconds: a login reads it about eight times. The price is that
 * `keystep client add/remove` takes up to that long to reach a running server. Concurrent
 * lookups of one client share one load; a load that fails is not kept, so the next lookup tries
 * again. "No such client" is kept like any answer.
 */
export function clientMetadataCache(load: (clientId: string) => Promise<Metadata | undefined>, options: ClientCacheOptions = {}): ClientSource {
  const { ttlSeconds = 5, max = 1000, clock } = options;
  // lru-cache drops a fetch that resolves to undefined, so the answer is wrapped.
  const cache = new LRUCache<string, { metadata: Metadata | undefined }>({
    max,
    ttl: ttlSeconds * 1000,
    // The default keeps a clock reading for 1 ms behind a timer, which a test's clock would not see move.
    ttlResolution: 0,
    ...(clock ? { perf: { now: () => clock.now().getTime() } } : {}),
    // A load still under way when its entry is pushed out must still answer its callers.
    ignoreFetchAbort: true,
    fetchMethod: async (clientId) => ({ metadata: await load(clientId) }),
  });
  return {
    async findMetadata(clientId) {
      return (await cache.fetch(clientId))?.metadata;
    },
  };
}
