import { describe, expect, it } from 'vitest';
import { messageCatalogue, messages } from '../../src/login/messages.ts';
import { factorModules } from '../../src/login/registry.ts';

describe('the message catalogue', () => {
  const catalogue = messageCatalogue(factorModules);

  it('has the chain\'s texts and every factor\'s, with their numbers filled in', () => {
    expect(catalogue.text('LOGIN_EXPIRED')).toBe(messages.LOGIN_EXPIRED);
    expect(catalogue.text('CODE_INCORRECT', { attempts: 2 })).toBe('That code is not right. 2 tries left for this code.');
    expect(catalogue.text('BACKUP_CODES_LEFT', { count: 3 })).toMatch(/3 unused backup codes/);
    expect(catalogue.kind('CODE_SENT')).toBe('info');
    expect(catalogue.kind('CODE_DEAD')).toBe('error');
    expect(catalogue.has('PHONE_CHANGED')).toBe(true);
  });

  it('reads a stored code that names no text (an inherited name, a removed code) as the generic error', () => {
    for (const code of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'NO_SUCH_CODE']) {
      expect(catalogue.has(code)).toBe(false);
      expect(catalogue.text(code)).toBe(messages.SERVER_ERROR);
      expect(catalogue.kind(code)).toBe('error');
    }
  });
});
