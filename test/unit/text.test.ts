import { describe, expect, it } from 'vitest';
import { storableText } from '../../src/shared/text.ts';

describe('text from outside, made storable', () => {
  it('drops NUL and lone surrogates, keeps whole pairs, and never cuts a pair in half', () => {
    expect(storableText('a\u0000b')).toBe('ab');
    expect(storableText('x\ud800y\udc00z')).toBe('xyz');
    expect(storableText('ok 😀')).toBe('ok 😀');
    // The cut falls between the two halves of the emoji: the half left behind goes.
    expect(storableText('ab😀', 3)).toBe('ab');
    // NUL goes before the cut, so it does not use up the room.
    expect(storableText('\u0000\u0000abc', 3)).toBe('abc');
  });
});
