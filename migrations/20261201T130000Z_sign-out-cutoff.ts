import { type Kysely } from 'kysely';

// Signing an account out deletes its rows, but a request already holding one (a session it read,
// a grant it is about to save again) would write it back. So the account also keeps the time it was
// signed out, and each provider row the time its sign-in or issue happened: a row of that account
// from before that time is never served again, whoever writes it back.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('signed_out_at', 'timestamptz').execute();
  await db.schema.alterTable('oidc_payloads').addColumn('issued_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('oidc_payloads').dropColumn('issued_at').execute();
  await db.schema.alterTable('accounts').dropColumn('signed_out_at').execute();
}
