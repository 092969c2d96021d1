// oidc-provider reads its signing keys once, when it is made; this is the function that does it
// (it replaces the provider's keystore and the JWKS it publishes). See live-keys.ts.
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  export default function initializeKeystore(this: object, jwks: { keys: Record<string, unknown>[] }): void;
}
