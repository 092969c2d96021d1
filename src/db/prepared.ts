import { CompiledQuery, type Compilable, type InferResult, type QueryResult } from 'kysely';

/** The database or a transaction. */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

// Mixed case and a NUL (which no real text parameter holds): a transformed stand-in still shows.
const MARK = '\u0000Keystep-Parameter:';

type Slot = { key: string } | { value: unknown };

/** Whether a prepared update or delete changed any row (a compare-and-set that won). */
export function changedRows(result: QueryResult<unknown>): boolean {
  return (result.numAffectedRows ?? 0n) > 0n;
}

/**
 * A Kysely query built and compiled once, then run with new parameter values. Building and compiling
 * a query costs a login's hot statements about a third of their client CPU (they never change shape),
 * so the builder runs once with stand-in values and each call only swaps the values in.
 *
 * `build` must only place its parameters as values: not branch on them, transform them, pass a list
 * to `in` or `=`, or compare with `is`. Preparing checks that every parameter it read became a bound
 * value, unchanged; a list cannot be told from a single value there, so it is for the author to avoid.
 */
export function prepared<P extends Record<string, unknown>, Q extends Compilable<unknown>>(build: (params: P) => Q) {
  let plan: { sql: string; slots: Slot[] } | undefined;

  function compile(): { sql: string; slots: Slot[] } {
    const read = new Set<string>();
    const standIns = new Proxy({}, {
      get: (_target, key) => {
        read.add(String(key));
        return `${MARK}${String(key)}`;
      },
      // A spread would see no parameters at all and silently leave columns out.
      ownKeys: () => {
        throw new Error('a prepared query must read its parameters by name, not spread or list them');
      },
    }) as P;
    const compiled = build(standIns).compile();
    if (compiled.sql.includes('\u0000')) throw new Error('a prepared query put a parameter into its SQL text instead of binding it');
    const slots: Slot[] = compiled.parameters.map((value) => {
      // Arithmetic on a stand-in gives NaN; a string method leaves the NUL in a changed string.
      if (typeof value === 'number' && Number.isNaN(value)) throw new Error('a prepared query changed a parameter before binding it');
      if (typeof value !== 'string' || !value.includes('\u0000')) return { value };
      const key = value.slice(MARK.length);
      if (!value.startsWith(MARK) || !read.has(key)) throw new Error(`a prepared query changed a parameter before binding it (${JSON.stringify(value)})`);
      return { key };
    });
    for (const key of read) {
      if (!slots.some((slot) => 'key' in slot && slot.key === key)) throw new Error(`a prepared query read its parameter "${key}" without binding it`);
    }
    return { sql: compiled.sql, slots };
  }

  return async function run(runner: QueryRunner, params: P): Promise<QueryResult<InferResult<Q>[number]>> {
    plan ??= compile();
    const values = plan.slots.map((slot) => ('key' in slot ? params[slot.key] : slot.value));
    return runner.executeQuery(CompiledQuery.raw(plan.sql, values) as CompiledQuery<InferResult<Q>[number]>);
  };
}
