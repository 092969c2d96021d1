import { ConfigError } from '../../src/config/load.ts';

/** The problems a configuration load reports; fails the test when it loads without any. */
export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
