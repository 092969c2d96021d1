import { sql, type Kysely } from 'kysely';

// A login's anti-forgery token is an HMAC of its id (so a page can be shown without writing a row);
// the stored token is read by nothing.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('login_flows').dropColumn('csrf_token').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('login_flows').addColumn('csrf_token', 'text', (c) => c.notNull().defaultTo(sql`''`)).execute();
}
