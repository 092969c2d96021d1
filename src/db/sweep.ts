/** One batch of a sweep: deletes at most `limit` expired rows and says how many it deleted. */
export type SweepBatch = (limit: number) => Promise<number>;

export interface SweepBounds {
  batchSize: number;
  /** Batches per table in one run: a backlog is cleared over several runs rather than in one long burst. */
  maxBatches: number;
}

/**
 * Deletes in batches until a batch comes back short (the table has caught up) or the bound is
 * reached. Small batches keep each statement's locks and WAL short; the loop keeps up with any rate
 * at which rows can be created.
 */
export async function sweepUntilCaughtUp(batch: SweepBatch, bounds: SweepBounds): Promise<{ removed: number; caughtUp: boolean }> {
  let removed = 0;
  for (let i = 0; i < bounds.maxBatches; i++) {
    const n = await batch(bounds.batchSize);
    removed += n;
    if (n < bounds.batchSize) return { removed, caughtUp: true };
  }
  return { removed, caughtUp: false };
}

/** Sweeps each table until it has caught up; `behind` names those that still have expired rows. */
export async function sweepTables(tables: Record<string, SweepBatch>, bounds: SweepBounds): Promise<{ removed: number; behind: string[] }> {
  let removed = 0;
  const behind: string[] = [];
  for (const [name, batch] of Object.entries(tables)) {
    const result = await sweepUntilCaughtUp(batch, bounds);
    removed += result.removed;
    if (!result.caughtUp) behind.push(name);
  }
  return { removed, behind };
}
