import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

// CI only sees a red run through `npm test`'s exit status. The embedded Postgres of the test setup
// ends the process with status 0 on exit unless the setup keeps the runner's failure code.
describe('the test runner, with the embedded Postgres of the test setup', () => {
  // Outside the project, so the project's own run never picks the failing test up.
  const dir = mkdtempSync(path.join(tmpdir(), 'keystep-runner-exit-'));
  // Run as root, Postgres runs as the `postgres` user, which must be able to enter it.
  chmodSync(dir, 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits non-zero when a test fails', async () => {
    // Vitest's globals: nothing there to import from.
    writeFileSync(path.join(dir, 'failing.test.ts'), "it('fails on purpose', () => { expect(1).toBe(2); });\n");
    const setup = path.join(root, 'test/support/global-setup.ts');
    writeFileSync(path.join(dir, 'vitest.config.mjs'),
      `export default { test: { root: ${JSON.stringify(dir)}, include: ['failing.test.ts'], globals: true, globalSetup: [${JSON.stringify(setup)}], hookTimeout: 60000 } };\n`);
    // The run's initialised Postgres to copy: the child's embedded Postgres starts as this run's did, without initialising one.
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', KEYSTEP_TEST_DATA_DIR: path.join(dir, 'data'), KEYSTEP_TEST_PRISTINE_DIR: inject('pristineDataDir') };
    delete env.TEST_DATABASE_URL;
    delete env.VITEST;
    delete env.VITEST_WORKER_ID;
    delete env.VITEST_POOL_ID;
    const result = await run([path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', path.join(dir, 'vitest.config.mjs')], env);
    expect(result.output).toContain('fails on purpose');
    expect(result.output).toMatch(/1 failed/);
    expect(result.code).toBe(1);
  }, 120_000);
});
