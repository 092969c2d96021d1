import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { ClientRow } from '../db/schema.ts';

/** `phishing-resistant`: a second factor is required, and only a passkey counts. */
export type MfaPolicy = 'required' | 'optional' | 'phishing-resistant';
export const MFA_POLICIES: readonly MfaPolicy[] = ['required', 'optional', 'phishing-resistant'];

export interface StoredClient {
  clientId: string;
  metadata: Record<string, unknown>;
  consentRequired: boolean;
  mfa: MfaPolicy | null;
  /** The first-stage factors the client offers (`password`, `idp:<name>`); null: password only. */
  firstSteps?: string[] | null;
  createdAt: Date;
}

function toClient(row: ClientRow): StoredClient {
  return {
    clientId: row.client_id,
    metadata: row.metadata,
    consentRequired: row.consent_required,
    mfa: MFA_POLICIES.find((p) => p === row.mfa) ?? null,
    firstSteps: row.first_steps,
    createdAt: row.created_at,
  };
}

export class ClientExistsError extends Error {}

/** What `client update` changes; an absent field stays as it is (`mfa: null`: follow smsOtp.mandatory). */
export interface ClientPatch {
  metadata?: Record<string, unknown>;
  consentRequired?: boolean;
  mfa?: MfaPolicy | null;
  /** The first-stage sign-ins offered, in order; null: password only (the default). */
  firstSteps?: readonly string[] | null;
}

export function clientRepository(db: Db) {
  return {
    async find(clientId: string): Promise<StoredClient | undefined> {
      const row = await db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
      return row && toClient(row);
    },

    async insert(client: Omit<StoredClient, 'createdAt'>): Promise<void> {
      const result = await db.insertInto('clients')
        .values({
          client_id: client.clientId,
          metadata: JSON.stringify(client.metadata),
          consent_required: client.consentRequired,
          mfa: client.mfa,
          first_steps: client.firstSteps ?? null,
        })
        .onConflict((oc) => oc.column('client_id').doNothing())
        .executeTakeFirst();
      if (result.numInsertedOrUpdatedRows === 0n) throw new ClientExistsError(`client ${client.clientId} already exists`);
    },

    /** Creates or updates a client Keystep itself needs (its redirect URIs follow the issuer). */
    async ensure(client: Omit<StoredClient, 'createdAt'>): Promise<void> {
      const values = { client_id: client.clientId, metadata: JSON.stringify(client.metadata), consent_required: client.consentRequired, mfa: client.mfa };
      await db.insertInto('clients').values(values)
        .onConflict((oc) => oc.column('client_id').doUpdateSet({ metadata: values.metadata, consent_required: values.consent_required, mfa: values.mfa }))
        .execute();
    },

    /** Sets a client's MFA policy (null: follow `smsOtp.mandatory`); false when there is no such client. */
    async setMfa(clientId: string, mfa: MfaPolicy | null): Promise<boolean> {
      const result = await db.updateTable('clients').set({ mfa }).where('client_id', '=', clientId).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** Sets the first-stage factors a client offers (null: password only); false when there is no such client. */
    async setFirstSteps(clientId: string, steps: readonly string[] | null): Promise<boolean> {
      const result = await db.updateTable('clients').set({ first_steps: steps ? [...steps] : null }).where('client_id', '=', clientId).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /**
     * Changes what the patch names and nothing else: `metadata` is merged key by key into the stored
     * metadata (the secret stays unless named). False when there is no such client.
     */
    async update(clientId: string, patch: ClientPatch): Promise<boolean> {
      const result = await db.updateTable('clients')
        .set({
          ...(patch.metadata ? { metadata: sql<string>`metadata || ${JSON.stringify(patch.metadata)}::jsonb` } : {}),
          ...(patch.consentRequired !== undefined ? { consent_required: patch.consentRequired } : {}),
          ...(patch.mfa !== undefined ? { mfa: patch.mfa } : {}),
          ...(patch.firstSteps !== undefined ? { first_steps: patch.firstSteps ? [...patch.firstSteps] : null } : {}),
        })
        .where('client_id', '=', clientId).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /**
     * Replaces a client's metadata with what `change` makes of it, the row locked meanwhile (two
     * rotations at once must not both keep the same previous secret). Undefined when there is no
     * such client; `change` may throw to change nothing.
     */
    async replaceMetadata(clientId: string, change: (metadata: Record<string, unknown>) => Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
      return db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('clients').select('metadata').where('client_id', '=', clientId).forUpdate().executeTakeFirst();
        if (!row) return undefined;
        const metadata = change(row.metadata);
        await trx.updateTable('clients').set({ metadata: JSON.stringify(metadata) }).where('client_id', '=', clientId).execute();
        return metadata;
      });
    },

    async list(): Promise<StoredClient[]> {
      return (await db.selectFrom('clients').selectAll().orderBy('client_id').execute()).map(toClient);
    },

    async remove(clientId: string): Promise<boolean> {
      const result = await db.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
