import { describe, expect, it } from 'vitest';
import { messageCatalogue } from '../../src/login/messages.ts';
import { factorModules } from '../../src/login/registry.ts';
import { describeSignIns, signInEvents } from '../../src/login/sign-ins.ts';

describe('the account page\'s recent sign-ins', () => {
  const at = new Date('2026-03-01T09:00:00Z');
  const failed = (event: string) => ({ event, result: 'failure' as const, reason: 'wrong_code', ip: '192.0.2.1', at });

  it('names the failed tries of every factor the registry lists, by what each factor says of itself', () => {
    const events = [
      { event: 'login.completed', result: 'success' as const, detail: { amr: ['pwd', 'otp', 'mfa'] }, ip: '192.0.2.1', at },
      ...['login.password', 'login.sms_otp', 'login.backup_code', 'login.totp', 'login.passkey', 'login.locked'].map(failed),
      failed('account.something_else'),
    ];
    const english = messageCatalogue(factorModules).page;
    const described = describeSignIns(events, signInEvents(factorModules));
    expect(described.map((e) => `${e.succeeded ? 'signed in' : `failed (${e.reason})`}: ${e.factor ?? english(e.factorKey!)}`)).toEqual([
      'signed in: pwd + otp',
      'failed (wrong_code): password', 'failed (wrong_code): SMS code', 'failed (wrong_code): backup code',
      'failed (wrong_code): authenticator app', 'failed (wrong_code): passkey', 'failed (wrong_code): password',
    ]);
  });
});
