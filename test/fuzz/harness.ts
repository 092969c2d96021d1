import fc from 'fast-check';
import { it } from 'vitest';
import type { TestApp } from '../support/app.ts';
import { tableViolations } from '../support/invariants.ts';
import { describeRequest, sendRaw, type RawRequest, type RawResponse } from '../support/raw-http.ts';

/**
 * Deterministic by default; KEYSTEP_FUZZ_SEED explores another seed, KEYSTEP_FUZZ_SCALE multiplies
 * the runs of every property (CI runs three times those of `npm test`) and KEYSTEP_FUZZ_RUNS sets
 * them outright (fast-check prints the seed, the path and the failing case on failure).
 */
const seed = Number(process.env.KEYSTEP_FUZZ_SEED ?? 20261201);
const runsOverride = process.env.KEYSTEP_FUZZ_RUNS ? Number(process.env.KEYSTEP_FUZZ_RUNS) : undefined;
const scale = Number(process.env.KEYSTEP_FUZZ_SCALE ?? 1);
const runsOf = (defaultRuns: number) => runsOverride ?? Math.max(1, Math.round(defaultRuns * scale));

/**
 * Time for a property, shrinking included: fast-check stops by itself before the test's limit,
 * reporting the smallest failing case found so far (a test timed out by vitest would keep sending
 * requests in the background, into the next property).
 */
const budgetMs = ({ runs, msPerRun }: Budget) => 20_000 + runsOf(runs) * msPerRun * 3;

/**
 * Runs of a property in `npm test`, and about what one costs (it sets the property's time limit);
 * `shrink: false` reports the first failing case as it is (for inputs too costly to shrink). The
 * runs are few (a quick suite, always the same inputs); the examples of each property, inputs that
 * once broke Keystep, run every time besides.
 */
export interface Budget {
  runs: number;
  msPerRun: number;
}

const errorLevel = (line: string) => {
  try {
    return (JSON.parse(line) as { level?: number }).level ?? 0;
  } catch {
    return 0;
  }
};
/** The error lines Keystep logged since line `from`, shortened. */
const errorsSince = (t: TestApp, from: number) => t.logLines.slice(from).filter((l) => errorLevel(l) >= 50).map((l) => `log: ${l.slice(0, 1500)}`);

/** Sends the request and fails on any 5xx, with the request, the answer and the error log lines. */
export async function sendChecked(t: TestApp, raw: RawRequest): Promise<RawResponse> {
  const logged = t.logLines.length;
  const response = await sendRaw(t.issuer, raw);
  if (response.status >= 500) {
    throw new Error([`${response.status} for ${describeRequest(raw)}`, `answer: ${response.body.subarray(0, 300).toString('utf8')}`, ...errorsSince(t, logged)].join('\n'));
  }
  return response;
}

/**
 * A property as a test: runs it (first on `examples`, inputs that once broke Keystep) against the
 * app `app()` gives. After each run, whatever its requests did, the tables must be whole: a
 * violation that was not there before the run fails that run (one an earlier run or property left
 * stays that one's failure, so shrinking keeps to the input that made it).
 */
export function fuzzIt<T>(
  name: string, budget: Budget & { shrink?: boolean }, app: () => TestApp, arbitrary: fc.Arbitrary<T>, body: (input: T) => Promise<unknown>, examples: T[] = [],
): void {
  it(name, async () => {
    const t = app();
    const seen = new Set(await tableViolations(t.database.db));
    await fc.assert(fc.asyncProperty(arbitrary, async (input) => {
      const logged = t.logLines.length;
      await body(input);
      const found = (await tableViolations(t.database.db)).filter((v) => !seen.has(v));
      for (const v of found) seen.add(v);
      if (found.length) throw new Error(['table invariants violated:', ...found, ...errorsSince(t, logged)].join('\n'));
    }), {
      // Out of time is a failure, not a quiet pass on fewer runs (the budget is three times the expected time).
      seed, numRuns: runsOf(budget.runs), interruptAfterTimeLimit: budgetMs(budget), markInterruptAsFailure: true, examples: examples.map((e) => [e] as [T]),
      endOnFailure: budget.shrink === false,
    });
  }, budgetMs(budget) + 30_000);
}
