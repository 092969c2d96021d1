import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The import rules of ARCHITECTURE.md, checked mechanically: folder -> folders of ours it may import.
const allowed: Record<string, string[]> = {
  config: ['config', 'shared'],
  shared: ['shared'],
  db: ['db', 'shared'],
  login: ['login', 'shared', 'sms/port'],
  sms: ['sms', 'shared'],
  // The Prometheus registry and its listener, the tracing start: adapters of the shared Metrics port.
  observability: ['observability', 'shared'],
  oidc: ['oidc', 'config', 'shared'],
  // A store implements a port: the chain's (login/ports), a factor's (its ports.ts), the flow's shape.
  repositories: ['repositories', 'db', 'login/ports', 'login/flow', 'login/**/ports', 'sms/port', 'shared'],
  http: ['http', 'login', 'oidc', 'shared'],
  cli: ['cli', 'config', 'db', 'login', 'repositories', 'shared', 'sms', 'oidc', 'app', 'demo-data', 'sms-wiring', 'federation'],
  // The relying party of upstream providers implements the upstream sign-in's port.
  federation: ['federation', 'login/**/ports', 'shared'],
};

// Packages a folder must not use: the login is pure TypeScript; pages and routes reach no database.
const bannedPackages: Record<string, string[]> = {
  login: ['koa', '@koa/router', '@koa/bodyparser', 'kysely', 'pg', 'got', 'oidc-provider', 'openid-client', 'oauth4webapi'],
  http: ['kysely', 'pg', 'got'],
  shared: ['koa', 'kysely', 'pg', 'got', 'oidc-provider'],
};

// The composition root: the only files that may import everything (they pick and wire the parts).
const compositionRoot = new Set(['app.ts', 'sms-wiring.ts', 'demo-data.ts', 'metrics-wiring.ts']);

const src = path.resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** Every module a file names: static imports and exports, and dynamic `import()`. */
function specifiersOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [
    ...source.matchAll(/(?:^|\s)(?:import|export)\s[^'"]*?from\s+'([^']+)'/g),
    ...source.matchAll(/(?:^|\s)import\s+'([^']+)'/g),
    ...source.matchAll(/\bimport\s*\(\s*['"`]([^'"`]+)['"`]/g),
  ].map((m) => m[1]!);
}

const ours = (file: string, specifier: string) => path.relative(src, path.resolve(path.dirname(file), specifier)).replace(/\.ts$/, '');
const packageOf = (specifier: string) => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);

function matches(target: string, rule: string): boolean {
  if (rule.includes('**')) {
    const [prefix, suffix] = rule.split('/**/') as [string, string];
    return target.startsWith(`${prefix}/`) && (target.endsWith(`/${suffix}`));
  }
  return target === rule || target.startsWith(`${rule}/`);
}

const factorOf = (rel: string) => /^login\/factors\/([^/]+)\//.exec(rel.split(path.sep).join('/'))?.[1];

describe('architecture', () => {
  it('sees every kind of import (the rules below would pass on a blind reader)', () => {
    const seen = specifiersOf(path.join(src, 'login', 'registry.ts'));
    expect(seen).toContain('./factors/password/factor.ts');
    expect(specifiersOf(path.join(src, 'cli', 'main.ts')).some((s) => s.startsWith('./'))).toBe(true);
  });

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
      for (const specifier of specifiersOf(file)) {
        if (specifier.startsWith('.')) {
          const target = ours(file, specifier);
          if (!rules.some((rule) => matches(target, rule))) violations.push(`${rel} imports ${target}`);
        } else if (bannedPackages[folder]?.includes(packageOf(specifier))) {
          violations.push(`${rel} uses ${specifier}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('no factor imports another factor: the chain composes them', () => {
    const violations: string[] = [];
    for (const file of files(path.join(src, 'login', 'factors'))) {
      const own = factorOf(path.relative(src, file));
      for (const specifier of specifiersOf(file).filter((s) => s.startsWith('.'))) {
        const other = factorOf(`${ours(file, specifier)}/`);
        if (other && other !== own) violations.push(`${path.relative(src, file)} imports the ${other} factor`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('only src/oidc imports oidc-provider, and only src/config reads process.env', () => {
    const offenders: string[] = [];
    for (const file of files(src)) {
      const rel = path.relative(src, file);
      const source = readFileSync(file, 'utf8');
      if (specifiersOf(file).some((s) => packageOf(s) === 'oidc-provider') && !rel.startsWith(`oidc${path.sep}`)) offenders.push(`${rel} imports oidc-provider`);
      if (/process\.env/.test(source) && !rel.startsWith(`config${path.sep}`)) offenders.push(`${rel} reads process.env`);
    }
    expect(offenders).toEqual([]);
  });
});
