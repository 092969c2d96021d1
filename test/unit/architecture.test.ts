import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The import rules of ARCHITECTURE.md, checked mechanically: folder -> folders of ours it may import.
const allowed: Record<string, string[]> = {
  config: ['config'],
  shared: ['shared'],
  db: ['db'],
  login: ['login', 'shared', 'sms/port'],
  sms: ['sms', 'shared'],
  oidc: ['oidc', 'config', 'shared'],
  repositories: ['repositories', 'db', 'login/ports', 'sms/port', 'shared'],
  http: ['http', 'login', 'oidc', 'shared'],
  cli: ['cli', 'config', 'db', 'login', 'repositories', 'shared', 'sms', 'oidc', 'app', 'demo-data', 'sms-wiring'],
};

// The composition root: the only files that may import everything (they pick and wire the parts).
const compositionRoot = new Set(['app.ts', 'sms-wiring.ts', 'demo-data.ts']);

const src = path.resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/(?:from|import)\s+'(\.[^']+)'/g)].map((m) =>
    path.relative(src, path.resolve(path.dirname(file), m[1]!)).replace(/\.ts$/, ''));
}

describe('architecture', () => {
  it('every folder imports only what ARCHITECTURE.md allows', () => {
    const topLevel = readdirSync(src).filter((name) => name.endsWith('.ts'));
    expect(topLevel.filter((name) => !compositionRoot.has(name))).toEqual([]);
    const violations: string[] = [];
    for (const file of files(src)) {
      const rel = path.relative(src, file);
      const folder = rel.split(path.sep)[0]!;
      if (compositionRoot.has(rel)) continue;
      const rules = allowed[folder];
      if (!rules) {
        violations.push(`${rel}: folder ${folder} has no rule`);
        continue;
      }
      for (const target of importsOf(file)) {
        if (!rules.some((rule) => target === rule || target.startsWith(`${rule}/`))) violations.push(`${rel} imports ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('only src/oidc imports oidc-provider, and only src/config reads process.env', () => {
    const offenders: string[] = [];
    for (const file of files(src)) {
      const rel = path.relative(src, file);
      const source = readFileSync(file, 'utf8');
      if (/from 'oidc-provider'/.test(source) && !rel.startsWith(`oidc${path.sep}`)) offenders.push(`${rel} imports oidc-provider`);
      if (/process\.env/.test(source) && !rel.startsWith(`config${path.sep}`)) offenders.push(`${rel} reads process.env`);
    }
    expect(offenders).toEqual([]);
  });
});
