import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, unavailableReason } from '../../src/shared/unavailable.ts';

const withCode = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error('x'), { code, ...extra });

describe('telling a database outage from a bad request', () => {
  it('counts timeouts, lost connections and a server that is down or starting', () => {
    for (const err of [
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated unexpectedly'),
      new Error('Query read timeout'),
      withCode('57014'), withCode('57P01'), withCode('57P03'), withCode('08006'), withCode('53300'), withCode('25P03'),
      withCode('ECONNREFUSED', { syscall: 'connect' }),
      withCode('ENOENT', { syscall: 'connect' }),
      new AggregateError([withCode('ECONNREFUSED', { syscall: 'connect' })], 'all addresses failed'),
      new Error('wrapped', { cause: new Error('Query read timeout') }),
    ]) expect(isDatabaseUnavailable(err), String(err)).toBe(true);
  });

  it('does not count errors of a statement or of anything else', () => {
    for (const err of [withCode('23505'), withCode('22P02'), withCode('ENOENT', { syscall: 'open' }), new Error('boom'), undefined, 'text'])
      expect(isDatabaseUnavailable(err), String(err)).toBe(false);
  });

  it('logs only the code and the driver\'s message', () => {
    const err = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014', parameters: ['secret-value'], query: 'select' });
    expect(unavailableReason(err)).toEqual({ code: '57014', message: 'canceling statement due to statement timeout' });
  });
});
