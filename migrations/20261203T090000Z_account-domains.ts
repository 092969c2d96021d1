import { sql, type Kysely } from 'kysely';

// Accounts carry a domain (WSO2's user stores): a username is unique within its domain, and an
// upstream provider searches the domains it lists. Existing accounts are in `primary`.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('domain', 'text', (c) => c.notNull().defaultTo('primary').check(sql`domain ~ '^[a-z0-9][a-z0-9_-]{0,31}$'`))
    .execute();
  await sql`drop index accounts_username_key`.execute(db);
  await sql`create unique index accounts_domain_username_key on accounts (domain, lower(username))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // Going back to one namespace would merge accounts of different domains: refuse while any exist.
  const others = await sql<{ n: string }>`select count(*)::text as n from accounts where domain <> 'primary'`.execute(db);
  if (Number(others.rows[0]?.n ?? 0) > 0) throw new Error('accounts outside the primary domain exist; remove them before going back past this migration');
  await sql`drop index accounts_domain_username_key`.execute(db);
  await sql`create unique index accounts_username_key on accounts (lower(username))`.execute(db);
  await db.schema.alterTable('accounts').dropColumn('domain').execute();
}
