import { sql, type Kysely } from 'kysely';

// Passkeys (WebAuthn credentials): several per account, each with the public key that checks its
// assertions and the signature counter its authenticator last reported. Gone with its account.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('passkey_credentials')
    // The credential id the authenticator chose (base64url): unique across every account.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('public_key', 'bytea', (c) => c.notNull())
    // Unsigned 32-bit in WebAuthn: more than an integer holds.
    .addColumn('counter', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('transports', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('backed_up', 'boolean', (c) => c.notNull())
    .addColumn('device_type', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('passkey_credentials_account').on('passkey_credentials').column('account_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('passkey_credentials').execute();
}
