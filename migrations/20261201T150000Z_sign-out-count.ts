import { sql, type Kysely } from 'kysely';

// The sign-out time cannot tell a password read before a sign-out committed from one read after it
// (a transaction's now() is its start). So each sign-out also counts up, a login keeps the count it
// read with the password, and it is handed over only while the count is still that.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('sign_outs', 'integer', (c) => c.notNull().defaultTo(sql`0`)).execute();
  await db.schema.alterTable('login_flows').addColumn('account_sign_outs', 'integer').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('login_flows').dropColumn('account_sign_outs').execute();
  await db.schema.alterTable('accounts').dropColumn('sign_outs').execute();
}
