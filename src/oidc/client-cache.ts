import type { Clock } from '../shared/clock.ts';
import { shortCache } from '../shared/short-cache.ts';
import type { ClientSource } from './adapter.ts';

type Metadata = Record<string, unknown>;

export interface ClientCacheOptions {
  /** How long an answer is kept (5 s). */
  ttlSeconds?: number;
  /** How many clients are kept at most (1,000); the least recently used goes first. */
  max?: number;
  clock: Clock;
}

/**
 * Client metadata, kept a few seconds (src/shared/short-cache.ts): a login reads it about eight
 * times. The price is that `keystep client add/remove` takes up to that long to reach a running
 * server.
 */
export function clientMetadataCache(load: (clientId: string) => Promise<Metadata | undefined>, options: ClientCacheOptions): ClientSource {
  return { findMetadata: shortCache(load, options) };
}
