import type Provider from 'oidc-provider';
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import type { ProviderKeys } from './keys.ts';

/**
 * The keys of a running server, read again every `keys.reloadSeconds` (and at start): a rotation,
 * or a key's move from next to signing to retired, reaches every instance within that interval.
 * oidc-provider has no public way to change its keys once made, so its own start-up step that
 * reads them (`initialize_keystore`) is run again with the new set; the test of key rotation
 * (test/e2e/key-rotation.test.ts) fails should an upgrade of oidc-provider change that.
 * Cookie keys need no such step: the cookie signer reads `cookieKeys()` on every use.
 */
export function liveKeys(initial: ProviderKeys, load: () => Promise<ProviderKeys>) {
  let current = initial;
  let provider: Provider | undefined;
  const fingerprint = (keys: ProviderKeys['jwks']) => JSON.stringify(keys.keys.map((k) => [k.kid, k.key_ops ?? null]));
  return {
    keys: () => current,
    cookieKeys: () => current.cookieKeys,
    attach(to: Provider) {
      provider = to;
    },
    /** Reads the keys again; true when something changed. */
    async reload(): Promise<boolean> {
      const next = await load();
      const signingChanged = fingerprint(next.jwks) !== fingerprint(current.jwks);
      const changed = signingChanged || next.cookieKeys.join() !== current.cookieKeys.join();
      if (signingChanged && provider) initializeKeystore.call(provider, next.jwks);
      current = next;
      return changed;
    },
  };
}

