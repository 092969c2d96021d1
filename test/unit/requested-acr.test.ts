import { describe, expect, it } from 'vitest';
import { requestedAcrs } from '../../src/oidc/requested-acr.ts';

const MFA = 'urn:keystep:acr:mfa';

describe('requestedAcrs', () => {
  it('reads acr_values and the ID token acr of the claims parameter (value or values)', () => {
    expect(requestedAcrs({ acr_values: `1 ${MFA}` })).toEqual(['1', MFA]);
    expect(requestedAcrs({ claims: JSON.stringify({ id_token: { acr: { essential: true, value: MFA } } }) })).toEqual([MFA]);
    expect(requestedAcrs({ acr_values: 'a', claims: JSON.stringify({ id_token: { acr: { values: ['b', MFA] } } }) })).toEqual(['a', 'b', MFA]);
  });

  it('ignores a userinfo acr and claims of any other shape without throwing', () => {
    const shapes: unknown[] = [
      undefined, 42, '', 'not json', '{"id_token":', 'null', '[]', '"text"', '{"id_token":null}', '{"id_token":{"acr":null}}',
      '{"id_token":{"acr":"mfa"}}', '{"id_token":{"acr":{"values":"mfa"}}}', '{"id_token":{"acr":{"values":[1,null,{}]}}}',
      JSON.stringify({ userinfo: { acr: { value: MFA } } }),
    ];
    for (const claims of shapes) expect(requestedAcrs({ claims }), String(claims)).toEqual([]);
    expect(requestedAcrs({ acr_values: ['x'] })).toEqual([]);
  });
});
