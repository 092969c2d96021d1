import type { Db } from '../db/connection.ts';
import { USECASES, type UpstreamProvider, type Usecase } from '../login/factors/federated/ports.ts';

/** An upstream provider as stored: what the login sees, and what the relying party needs. */
export interface StoredUpstreamProvider extends UpstreamProvider {
  clientId: string;
  scope: string;
  /** Never printed (`idp list` shows only whether there is one). */
  clientSecret: string | undefined;
}

export class UpstreamProviderExistsError extends Error {}

const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

function toProvider(name: string, settings: Record<string, unknown>, clientSecret: string | null): StoredUpstreamProvider {
  const usecase = USECASES.find((u) => u === settings.usecase) ?? 'local';
  const domains = Array.isArray(settings.domains) ? settings.domains.filter((d): d is string => typeof d === 'string') : [];
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
    clientSecret: clientSecret ?? undefined,
  };
}

/** The providers `keystep idp add` made. */
export function upstreamProviderRepository(db: Db) {
  return {
    async find(name: string): Promise<StoredUpstreamProvider | undefined> {
      const row = await db.selectFrom('upstream_providers').selectAll().where('name', '=', name).executeTakeFirst();
      return row && toProvider(row.name, row.settings, row.client_secret);
    },

    async list(): Promise<StoredUpstreamProvider[]> {
      const rows = await db.selectFrom('upstream_providers').selectAll().orderBy('name').execute();
      return rows.map((r) => toProvider(r.name, r.settings, r.client_secret));
    },

    async insert(provider: StoredUpstreamProvider): Promise<void> {
      const { name, clientSecret, ...settings } = provider;
      const result = await db.insertInto('upstream_providers')
        .values({ name, settings: JSON.stringify(settings), client_secret: clientSecret ?? null })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      if (result.numInsertedOrUpdatedRows === 0n) throw new UpstreamProviderExistsError(`an identity provider ${name} already exists`);
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
