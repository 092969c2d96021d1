import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

// A WebAuthn authenticator in a few lines, for checking the server's side with real signatures:
// an ES256 (P-256) key, "none" attestation, a signature counter the test sets. Browsers are tested
// with Chromium's virtual authenticator; this one lets a test forge exactly one thing at a time.

type Cbor = number | string | Uint8Array | Map<number | string, Cbor>;

function head(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 256) return Buffer.from([(major << 5) | 24, value]);
  const b = Buffer.alloc(3);
  b[0] = (major << 5) | 25;
  b.writeUInt16BE(value, 1);
  return b;
}

/** The CBOR the authenticator speaks: small integers, byte and text strings, maps. */
export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

export interface AuthenticatorOptions {
  rpId: string;
  /** Synced to other devices (backup eligible and backed up). */
  backedUp?: boolean;
}

export function softwareAuthenticator(options: AuthenticatorOptions) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const credentialId = sha256(publicKey.export({ type: 'spki', format: 'der' })).subarray(0, 16);
  const jwk = publicKey.export({ format: 'jwk' });
  const coseKey = cbor(new Map<number, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
  // UP and UV; BE and BS for a synced one; AT when credential data follows.
  const flags = (attested: boolean) => 0x01 | 0x04 | (options.backedUp ? 0x18 : 0) | (attested ? 0x40 : 0);

  function authData(rpId: string, counter: number, attested: boolean): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    const parts: Uint8Array[] = [sha256(rpId), Buffer.from([flags(attested)]), count];
    if (attested) {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(credentialId.length);
      parts.push(Buffer.alloc(16), length, credentialId, coseKey);
    }
    return Buffer.concat(parts);
  }

  const clientData = (type: string, challenge: string, origin: string) => Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));

  return {
    credentialId: b64(credentialId),

    /** The JSON a browser's script posts after `navigator.credentials.create`. */
    register(o: { challenge: string; origin: string; rpId?: string; counter?: number; transports?: unknown }): string {
      const attestationObject = cbor(new Map<string, Cbor>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData(o.rpId ?? options.rpId, o.counter ?? 0, true)]]));
      return JSON.stringify({
        id: b64(credentialId), rawId: b64(credentialId), type: 'public-key', clientExtensionResults: {},
        response: { clientDataJSON: b64(clientData('webauthn.create', o.challenge, o.origin)), attestationObject: b64(attestationObject), transports: o.transports ?? ['internal'] },
      });
    },

    /** The JSON a browser's script posts after `navigator.credentials.get`. */
    assert(o: { challenge: string; origin: string; rpId?: string; counter: number; key?: KeyObject }): string {
      const data = authData(o.rpId ?? options.rpId, o.counter, false);
      const client = clientData('webauthn.get', o.challenge, o.origin);
      const signature = sign('sha256', Buffer.concat([data, sha256(client)]), o.key ?? privateKey);
      return JSON.stringify({
        id: b64(credentialId), rawId: b64(credentialId), type: 'public-key', clientExtensionResults: {},
        response: { clientDataJSON: b64(client), authenticatorData: b64(data), signature: b64(signature) },
      });
    },
  };
}
