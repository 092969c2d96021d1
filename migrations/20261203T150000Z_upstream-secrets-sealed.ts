import type { Kysely } from 'kysely';

// Upstream providers' client secrets are sealed at rest (AES-256-GCM under the server secret's
// `upstream-secrets` key, bound to the provider's name). A migration has no key: rows written by an
// older Keystep keep `secret_sealed` false, are read as they are, and are sealed at the next start.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('upstream_providers').addColumn('secret_sealed', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('upstream_providers').dropColumn('secret_sealed').execute();
}
