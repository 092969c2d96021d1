import type { Factor } from './factor.ts';
import type { LoginFlow } from './flow.ts';
import type { Account } from './ports.ts';

/**
 * The second-stage factors of a finished login whose use the hand-over notes in the account's
 * factor rows (so the one used last is offered first): those the account has without such a row,
 * as the SMS code has with a verified number. A factor whose row says the account has it notes its
 * use in the statement that accepts it, and is left out here: a row written at hand-over could
 * bring back one removed meanwhile. Fallbacks are never offered first, so they are not noted.
 */
export async function usesToNote(factors: readonly Factor[], flow: LoginFlow, accountOf: () => Promise<Account>): Promise<string[]> {
  const passed = factors.filter((f) => f.stage === 'second' && !f.role && flow.passed.includes(f.id));
  if (!passed.length) return [];
  const account = await accountOf();
  const withoutRow = await Promise.all(passed.map((f) => f.enrolled({ ...account, factors: account.factors.filter((r) => r.id !== f.id) })));
  return passed.filter((_, i) => withoutRow[i]).map((f) => f.id);
}
