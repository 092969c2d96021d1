import type { KeyObject } from 'node:crypto';
import type { Db } from '../db/connection.ts';
import { USECASES, type UpstreamProvider, type Usecase } from '../login/factors/federated/ports.ts';
import { purposeKey, seal, unseal } from '../shared/keys.ts';
import { cryptoRandom, type Random } from '../shared/random.ts';
import { serverSecret, serverSecretRepository } from './server-secrets.ts';

/** An upstream provider as stored: what the login sees, and what the relying party needs. */
export interface StoredUpstreamProvider extends UpstreamProvider {
  clientId: string;
  scope: string;
  /** Never printed (`idp list` shows only whether there is one). */
  clientSecret: string | undefined;
  /** A sealed secret that does not open with this server secret (`keys.otpHmacKey` changed, a row copied from another provider). */
  secretUnreadable?: boolean;
}

export class UpstreamProviderExistsError extends Error {}

const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** What a sealed secret is bound to: a secret moved to another provider's row does not open. */
const secretContext = (name: string) => `upstream-provider/${name}`;

type Row = { name: string; settings: Record<string, unknown>; client_secret: string | null; secret_sealed: boolean };

function toProvider(row: Row, key: KeyObject): StoredUpstreamProvider {
  const { name, settings } = row;
  const usecase = USECASES.find((u) => u === settings.usecase) ?? 'local';
  const domains = Array.isArray(settings.domains) ? settings.domains.filter((d): d is string => typeof d === 'string') : [];
  // A row of an older Keystep holds its secret in plain text until the next start seals it.
  const clientSecret = row.client_secret === null ? undefined : row.secret_sealed ? unseal(key, row.client_secret, secretContext(name)) : row.client_secret;
  return {
    name,
    issuer: String(settings.issuer ?? ''),
    clientId: String(settings.clientId ?? ''),
    scope: text(settings.scope) ?? 'openid',
    displayName: text(settings.displayName) ?? name,
    usecase: usecase as Usecase,
    userAttribute: text(settings.userAttribute),
    domains: domains.length ? domains : ['primary'],
    mobileClaim: text(settings.mobileClaim),
    jit: settings.jit === true,
    clientSecret,
    ...(row.client_secret !== null && clientSecret === undefined ? { secretUnreadable: true } : {}),
  };
}

/**
 * The key the providers' client secrets are sealed under: the server secret's `upstream-secrets`
 * purpose (AES-256-GCM, as the authenticator apps' secrets), for the commands that write them.
 */
export async function upstreamSecretsKey(db: Db, configured: string | undefined, random: Random = cryptoRandom): Promise<KeyObject> {
  return purposeKey(await serverSecret(serverSecretRepository(db), configured, random), 'upstream-secrets');
}

/** The providers `keystep idp add` made; their client secrets sealed at rest with `key`, bound to the provider's name. */
export function upstreamProviderRepository(db: Db, key: KeyObject) {
  return {
    async find(name: string): Promise<StoredUpstreamProvider | undefined> {
      const row = await db.selectFrom('upstream_providers').selectAll().where('name', '=', name).executeTakeFirst();
      return row && toProvider(row, key);
    },

    async list(): Promise<StoredUpstreamProvider[]> {
      const rows = await db.selectFrom('upstream_providers').selectAll().orderBy('name').execute();
      return rows.map((r) => toProvider(r, key));
    },

    async insert(provider: StoredUpstreamProvider): Promise<void> {
      const { name, clientSecret, secretUnreadable: _, ...settings } = provider;
      const result = await db.insertInto('upstream_providers')
        .values({ name, settings: JSON.stringify(settings), client_secret: clientSecret ? seal(key, clientSecret, secretContext(name)) : null, secret_sealed: true })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      if (result.numInsertedOrUpdatedRows === 0n) throw new UpstreamProviderExistsError(`an identity provider ${name} already exists`);
    },

    /**
     * Seals the secrets an older Keystep stored in plain text (at every start; a migration has no
     * key). Each row only while it still holds the value read, so two instances starting at once
     * seal it once. Returns the names sealed.
     */
    async sealPlainSecrets(): Promise<string[]> {
      const plain = await db.selectFrom('upstream_providers').select(['name', 'client_secret']).where('secret_sealed', '=', false).execute();
      const sealed: string[] = [];
      for (const { name, client_secret: secret } of plain) {
        const result = await db.updateTable('upstream_providers')
          .set({ client_secret: secret === null ? null : seal(key, secret, secretContext(name)), secret_sealed: true })
          .where('name', '=', name).where('secret_sealed', '=', false)
          .where((eb) => (secret === null ? eb('client_secret', 'is', null) : eb('client_secret', '=', secret)))
          .executeTakeFirst();
        if (result.numUpdatedRows > 0n && secret !== null) sealed.push(name);
      }
      return sealed;
    },

    /** Removes the provider and its links (its users can no longer be found through it). */
    async remove(name: string): Promise<boolean> {
      return db.transaction().execute(async (tx) => {
        await tx.deleteFrom('federated_links').where('provider', '=', name).execute();
        const result = await tx.deleteFrom('upstream_providers').where('name', '=', name).executeTakeFirst();
        return result.numDeletedRows > 0n;
      });
    },
  };
}

export type UpstreamProviderRepository = ReturnType<typeof upstreamProviderRepository>;
