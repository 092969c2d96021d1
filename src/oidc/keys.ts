import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';

export interface ProviderKeys {
  jwks: { keys: Record<string, unknown>[] };
  cookieKeys: string[];
}

/** Where generated keys are kept so every instance and restart uses the same ones. */
export interface SecretStore {
  getOrCreate<T>(name: string, generate: () => T | Promise<T>): Promise<T>;
}

export function generateJwks(): { keys: Record<string, unknown>[] } {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return {
    keys: [
      { ...rsa, kid: randomUUID(), alg: 'RS256', use: 'sig' },
      { ...ec, kid: randomUUID(), alg: 'ES256', use: 'sig' },
    ],
  };
}

export function generateCookieKeys(): string[] {
  return [randomBytes(32).toString('base64url')];
}

export async function resolveProviderKeys(
  configured: { jwks?: { keys: Record<string, unknown>[] }; cookieKeys?: string[] },
  store: SecretStore,
): Promise<ProviderKeys> {
  return {
    jwks: configured.jwks ?? (await store.getOrCreate('jwks', generateJwks)),
    cookieKeys: configured.cookieKeys ?? (await store.getOrCreate('cookie_keys', generateCookieKeys)),
  };
}
