import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { z } from 'zod';
import type { Random } from '../../../shared/random.ts';
import type { PasskeyCredential } from './ports.ts';

/** A new passkey as its authenticator reported it, checked. */
export interface NewPasskey {
  id: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  backedUp: boolean;
  deviceType: 'singleDevice' | 'multiDevice';
}

/** What an assertion proved about the passkey it was made with. */
export interface Assertion {
  counter: number;
  backedUp: boolean;
}

/**
 * The WebAuthn checks, as a port: the factor's own rules (counter, challenge, amr) are tested with a
 * fake, the signatures by the library against a real authenticator. Options are the JSON the
 * browser's script turns into `navigator.credentials` arguments.
 */
export interface WebAuthnRelyingParty {
  /** A fresh challenge (base64url). */
  challenge(): string;
  registrationOptions(user: { id: string; username: string }, existing: readonly PasskeyCredential[], challenge: string): Promise<unknown>;
  /** The credential `response` (the script's JSON) proves, or undefined when it proves nothing. */
  verifyRegistration(response: string, challenge: string): Promise<NewPasskey | undefined>;
  /** The credential id an assertion names (to look it up), or undefined when it is not one. */
  credentialIdOf(response: string): string | undefined;
  authenticationOptions(credentials: readonly PasskeyCredential[], challenge: string): Promise<unknown>;
  verifyAuthentication(response: string, challenge: string, credential: PasskeyCredential): Promise<Assertion | undefined>;
}

/** A credential id: base64url of at most 1,023 bytes (WebAuthn's limit), so nothing else reaches a query. */
export const credentialId = z.string().min(1).max(1364).regex(/^[A-Za-z0-9_-]+$/);

// The transports a browser may name (WebAuthn's AuthenticatorTransport); anything else is dropped.
const TRANSPORTS = new Set(['usb', 'nfc', 'ble', 'hybrid', 'internal', 'smart-card', 'cable']);

// The shape the script posts; the library checks everything inside.
const credentialJson = z.object({ id: credentialId, rawId: credentialId, type: z.literal('public-key'), response: z.record(z.string(), z.unknown()) }).loose();
function parse<T>(text: string): T | undefined {
  try {
    return credentialJson.safeParse(JSON.parse(text)).data as T | undefined;
  } catch {
    return undefined;
  }
}

/**
 * The relying party is the issuer's host, and assertions count only from the issuer's origin: a
 * look-alike site gets nothing the authenticator would sign for Keystep (what makes passkeys
 * phishing-resistant). User verification is preferred, not required: a security key without a PIN
 * still proves possession.
 */
export function webAuthnRelyingParty(issuer: string, serviceName: string, random: Random): WebAuthnRelyingParty {
  const { hostname: rpID, origin } = new URL(issuer);
  const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64url'));
  return {
    challenge: () => random.bytes(32).toString('base64url'),

    registrationOptions: (user, existing, challenge) => generateRegistrationOptions({
      rpName: serviceName, rpID, userName: user.username, userID: new TextEncoder().encode(user.id), challenge: bytes(challenge),
      attestationType: 'none', excludeCredentials: existing.map((c) => ({ id: c.id, transports: c.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    }),

    async verifyRegistration(response, challenge) {
      const parsed = parse<RegistrationResponseJSON>(response);
      if (!parsed) return undefined;
      try {
        const result = await verifyRegistrationResponse({ response: parsed, expectedChallenge: challenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: false });
        if (!result.verified) return undefined;
        const { credential, credentialBackedUp, credentialDeviceType } = result.registrationInfo;
        if (!credentialId.safeParse(credential.id).success) return undefined;
        // What the browser reported, as it is echoed into later requests: known values only, a few.
        const transports = [...new Set((credential.transports ?? []).filter((t) => TRANSPORTS.has(t)))].slice(0, 8);
        return { id: credential.id, publicKey: credential.publicKey, counter: credential.counter, transports, backedUp: credentialBackedUp, deviceType: credentialDeviceType };
      } catch {
        // A wrong origin, challenge or signature: the library says which by throwing.
        return undefined;
      }
    },

    credentialIdOf: (response) => parse<AuthenticationResponseJSON>(response)?.id,

    authenticationOptions: (credentials, challenge) => generateAuthenticationOptions({
      rpID, challenge: bytes(challenge), userVerification: 'preferred',
      allowCredentials: credentials.map((c) => ({ id: c.id, transports: c.transports })),
    }),

    async verifyAuthentication(response, challenge, credential) {
      const parsed = parse<AuthenticationResponseJSON>(response);
      if (!parsed) return undefined;
      try {
        const result = await verifyAuthenticationResponse({
          response: parsed, expectedChallenge: challenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: false,
          credential: { id: credential.id, publicKey: new Uint8Array(credential.publicKey), counter: credential.counter, transports: credential.transports as never },
        });
        return result.verified ? { counter: result.authenticationInfo.newCounter, backedUp: result.authenticationInfo.credentialBackedUp } : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
