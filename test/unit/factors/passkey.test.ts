import { describe, expect, it } from 'vitest';
import { passkeyFactor } from '../../../src/login/factors/passkey/factor.ts';
import type { PasskeyCredential, PasskeyStore } from '../../../src/login/factors/passkey/ports.ts';
import type { WebAuthnRelyingParty } from '../../../src/login/factors/passkey/webauthn.ts';
import type { Form } from '../../../src/login/factor.ts';
import { anAccount, factorContext, fakeAccounts, recordingAudit, smsOtpSettings, TestClock } from '../../support/login-fakes.ts';

const START = Date.parse('2026-03-01T09:00:00Z');

/**
 * The WebAuthn checks faked: an assertion is the JSON `{ id, challenge, counter, backedUp, valid }`,
 * which "verifies" when it answers the expected challenge and says valid. The signatures themselves
 * are the library's, checked in the browser test against a real (virtual) authenticator.
 */
function fakeWebAuthn() {
  let next = 0;
  const verified: string[] = [];
  const rp: WebAuthnRelyingParty = {
    challenge: () => `challenge-number-${++next}`,
    registrationOptions: async () => ({}),
    verifyRegistration: async () => undefined,
    credentialIdOf: (response) => (JSON.parse(response) as { id: string }).id,
    authenticationOptions: async (credentials, challenge) => ({ challenge, allowCredentials: credentials.map((c) => ({ id: c.id })) }),
    async verifyAuthentication(response, challenge) {
      const a = JSON.parse(response) as { challenge: string; counter: number; backedUp: boolean; valid?: boolean };
      verified.push(challenge);
      return a.challenge === challenge && a.valid !== false ? { counter: a.counter, backedUp: a.backedUp } : undefined;
    },
  };
  return { rp, verified };
}

/** An in-memory store that keeps its port's contract: a counter is taken only when it grew (or both are 0). */
function fakeStore(rows: PasskeyCredential[]) {
  const store: PasskeyStore = {
    // Copies, as rows read from a database are: a later write does not change what was read.
    list: async (accountId) => rows.filter((r) => r.accountId === accountId).map((r) => ({ ...r })),
    find: async (accountId, id) => { const r = rows.find((x) => x.accountId === accountId && x.id === id); return r && { ...r }; },
    async add(c) {
      if (rows.some((r) => r.id === c.id)) return false;
      rows.push({ ...c, lastUsedAt: null });
      return true;
    },
    async use(accountId, id, counter, backedUp, at) {
      const row = rows.find((r) => r.accountId === accountId && r.id === id);
      if (!row || !((row.counter === 0 && counter === 0) || counter > row.counter)) return false;
      Object.assign(row, { counter, backedUp, lastUsedAt: at });
      return true;
    },
    async remove(accountId, id) {
      const at = rows.findIndex((r) => r.accountId === accountId && r.id === id);
      if (at < 0) return false;
      rows.splice(at, 1);
      return true;
    },
  };
  return store;
}

function setup(options: { counter?: number; lockoutThreshold?: number } = {}) {
  const clock = new TestClock(START);
  // Whether the account has a passkey comes with the account (its factors), as the store keeps it.
  const accounts = fakeAccounts(anAccount({ factors: [{ id: 'passkey', enrolledAt: new Date(START - 86_400_000), lastUsedAt: null }] }));
  const id = accounts.state.account.id;
  const rows: PasskeyCredential[] = [{
    id: 'cred-1', accountId: id, publicKey: new Uint8Array([1]), counter: options.counter ?? 0, transports: ['internal'], backedUp: false,
    deviceType: 'singleDevice', name: 'Laptop', createdAt: new Date(START - 86_400_000), lastUsedAt: null,
  }];
  const webauthn = fakeWebAuthn();
  const { events, audit } = recordingAudit();
  const settings = { smsOtp: { ...smsOtpSettings, ...(options.lockoutThreshold ? { lockoutThreshold: options.lockoutThreshold } : {}) } };
  const factor = passkeyFactor({ accounts: accounts.store, passkeys: fakeStore(rows), audit, clock, webauthn: webauthn.rp, settings });
  const submit = (form: Form, slot?: { challenge: string }) => factor.submit(factorContext({ account: accounts.state.account, slot }), form);
  /** A fresh challenge, as the page's "Use your passkey" asks for. */
  const start = async () => {
    const outcome = await submit({ action: 'start' });
    if (outcome.kind !== 'retry' || !outcome.slot) throw new Error('no challenge');
    return outcome.slot;
  };
  const assertion = (challenge: string, counter: number, backedUp = false, valid = true) => JSON.stringify({ id: 'cred-1', challenge, counter, backedUp, valid });
  return { accounts, rows, webauthn, events, factor, submit, start, assertion };
}

describe('the passkey factor', () => {
  it('is a second factor, offered to the accounts with a passkey', async () => {
    const t = setup();
    expect(t.factor).toMatchObject({ id: 'passkey', stage: 'second', actions: ['start', 'verify'], offer: { action: 'passkey' } });
    expect(await t.factor.enrolled(t.accounts.state.account)).toBe(true);
    expect(await t.factor.enrolled(anAccount({ id: 'someone-else' }))).toBe(false);
  });

  it('of two assertions racing with one counter value, lets the store decide: one passes, the other is refused', async () => {
    const t = setup({ counter: 2 });
    const [a, b] = [await t.start(), await t.start()];
    // Both grew past the stored 2 when checked; the store takes 3 once.
    const results = await Promise.all([
      t.submit({ action: 'verify', response: t.assertion(a.challenge, 3) }, a),
      t.submit({ action: 'verify', response: t.assertion(b.challenge, 3) }, b),
    ]);
    expect(results.map((r) => r.kind).sort()).toEqual(['passed', 'retry']);
    expect(results.find((r) => r.kind === 'retry')).toMatchObject({ message: 'PASSKEY_FAILED', slot: null });
  });

  it('proves hwk for a device-bound passkey and swk for a synced (backed-up) one', async () => {
    const t = setup();
    const first = await t.start();
    expect(await t.submit({ action: 'verify', response: t.assertion(first.challenge, 0, false) }, first)).toMatchObject({ kind: 'passed', amr: ['hwk'], slot: null });
    const second = await t.start();
    expect(await t.submit({ action: 'verify', response: t.assertion(second.challenge, 0, true) }, second)).toMatchObject({ kind: 'passed', amr: ['swk'] });
    // The flag as the authenticator reports it now is kept.
    expect(t.rows[0]!.backedUp).toBe(true);
    expect(t.events.filter((e) => e.event === 'login.passkey').map((e) => e.result)).toEqual(['success', 'success']);
  });

  it('refuses a counter that does not grow, where the authenticator keeps one', async () => {
    const t = setup({ counter: 5, lockoutThreshold: 10 });
    for (const counter of [5, 4, 0]) {
      const slot = await t.start();
      expect(await t.submit({ action: 'verify', response: t.assertion(slot.challenge, counter) }, slot), `counter ${counter}`).toMatchObject({ kind: 'retry', message: 'PASSKEY_FAILED', slot: null });
    }
    expect(t.rows[0]!.counter).toBe(5);
    const slot = await t.start();
    expect(await t.submit({ action: 'verify', response: t.assertion(slot.challenge, 6) }, slot)).toMatchObject({ kind: 'passed' });
    expect(t.rows[0]!.counter).toBe(6);
    expect(t.events.filter((e) => e.reason === 'counter_not_increased')).toHaveLength(3);
  });

  it('takes each challenge out with the answer to it, right or wrong, and checks none without one', async () => {
    const t = setup();
    const slot = await t.start();
    const other = await t.start();
    expect(other.challenge).not.toBe(slot.challenge);
    // An answer to another challenge fails, and the slot is emptied: the next try needs a new one.
    expect(await t.submit({ action: 'verify', response: t.assertion(other.challenge, 0) }, slot)).toMatchObject({ kind: 'retry', slot: null });
    expect(await t.submit({ action: 'verify', response: t.assertion(slot.challenge, 0) })).toMatchObject({ kind: 'retry', message: 'PASSKEY_FAILED', slot: null });
    expect(t.webauthn.verified).toEqual([slot.challenge]);
    // No answer at all (a page without script) also spends it.
    expect(await t.submit({ action: 'verify', response: '' }, other)).toMatchObject({ kind: 'retry', message: 'PASSKEY_MISSING', slot: null });
  });

  it('counts a wrong assertion toward the account\'s lock of wrong codes, and a right one clears it', async () => {
    const t = setup({ lockoutThreshold: 3 });
    const wrongOnce = async () => {
      const slot = await t.start();
      return t.submit({ action: 'verify', response: t.assertion(slot.challenge, 0, false, false) }, slot);
    };
    await wrongOnce();
    expect(t.accounts.state.account.failedOtpCount).toBe(1);
    const ok = await t.start();
    await t.submit({ action: 'verify', response: t.assertion(ok.challenge, 0) }, ok);
    expect(t.accounts.state.account.failedOtpCount).toBe(0);
    await wrongOnce();
    await wrongOnce();
    await wrongOnce();
    expect(t.accounts.state.account.otpLockedUntil).not.toBeNull();
    // Locked: no new challenge, and not even a right assertion to an earlier one is checked.
    const checked = t.webauthn.verified.length;
    expect(await t.submit({ action: 'start' })).toMatchObject({ kind: 'retry', slot: null });
    expect(await t.submit({ action: 'verify', response: t.assertion(ok.challenge, 0) }, ok)).toMatchObject({ kind: 'retry', slot: null });
    expect(t.webauthn.verified).toHaveLength(checked);
    expect(t.events.some((e) => e.event === 'account.locked')).toBe(true);
  });
});
