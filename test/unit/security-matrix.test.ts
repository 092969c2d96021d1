import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// docs/security.md names tests as `file › title`; a renamed or deleted test must not leave the
// matrix pointing at nothing.
const matrix = readFileSync('docs/security.md', 'utf8');
const named = [...matrix.matchAll(/`(test\/[^`\s]+\.test\.ts) › ([^`]+)`/g)].map(([, file, title]) => ({ file: file!, title: title! }));

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `file` has a test (not skipped, not a to-do) titled `title`. */
function hasTitle(file: string, title: string): boolean {
  if (!existsSync(file)) return false;
  const source = readFileSync(file, 'utf8').replace(/\\'/g, "'");
  // it(…), it.each(…)(…) and the fuzz suite's fuzzIt(…), with the title as their first argument.
  const test = new RegExp(`\\b(?:it|fuzzIt)(?:\\.each\\([\\s\\S]*?\\))?\\(\\s*(['"\`])${escape(title)}\\1`);
  return test.test(source);
}

describe('the security requirements matrix', () => {
  it('names tests for the requirements it says are met', () => {
    expect(named.length).toBeGreaterThan(100);
  });

  it('names only tests that exist', () => {
    expect(named.filter(({ file, title }) => !hasTitle(file, title.replace(/\\'/g, "'")))).toEqual([]);
  });
});
