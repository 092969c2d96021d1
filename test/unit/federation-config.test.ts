import { describe, expect, it } from 'vitest';
import { problemsOf } from '../support/config-problems.ts';
import { loadConfig } from '../../src/config/load.ts';


const withProviders = (providers: unknown) => loadConfig({ KEYSTEP_FEDERATION_PROVIDERS: JSON.stringify(providers) });

describe('upstream providers in the configuration', () => {
  it('reads them with the defaults of keystep idp add', () => {
    const config = withProviders({ acme: { issuer: 'https://sso.acme.example', clientId: 'keystep' } });
    expect(config.federation.providers.acme).toEqual({ issuer: 'https://sso.acme.example', clientId: 'keystep', scope: 'openid', usecase: 'local', domains: ['primary'], jit: false });
    expect(config.federation.timeoutMs).toBe(10_000);
  });

  it('refuses what a provider cannot be, naming the setting', () => {
    const problems = problemsOf(() => withProviders({
      plain: { issuer: 'http://sso.example', clientId: 'k' },
      attr: { issuer: 'https://sso.example', clientId: 'k', usecase: 'userAttribute' },
      'Bad Name': { issuer: 'https://sso.example', clientId: 'k' },
      scope: { issuer: 'https://sso.example', clientId: 'k', scope: 'email' },
    })).join('\n');
    expect(problems).toMatch(/federation\.providers.*must use https/);
    expect(problems).toMatch(/needs userAttribute/);
    expect(problems).toMatch(/federation\.providers\.Bad Name .*Invalid key/);
    expect(problems).toMatch(/must include openid/);
    // A provider on this machine may use http (development).
    expect(withProviders({ dev: { issuer: 'http://localhost:4000', clientId: 'k' } }).federation.providers.dev!.issuer).toBe('http://localhost:4000');
  });
});
