import { sql, type Kysely } from 'kysely';

// Upstream OpenID Connect providers an operator added with `keystep idp add`, and the links of an
// upstream identity (provider, subject) to a local account (`usecase` association, and every
// account a just-in-time sign-in made). A link goes with its account; and which first-stage factors
// each client offers.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('upstream_providers')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('settings', 'json', (c) => c.notNull())
    .addColumn('client_secret', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('federated_links')
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('federated_links_pkey', ['provider', 'subject'])
    .execute();
  await db.schema.createIndex('federated_links_account').on('federated_links').columns(['account_id']).execute();
  // The first-stage factors a client offers (`password`, `idp:<name>`); null is password only.
  await db.schema.alterTable('clients').addColumn('first_steps', sql`text[]`).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('clients').dropColumn('first_steps').execute();
  await db.schema.dropTable('federated_links').execute();
  await db.schema.dropTable('upstream_providers').execute();
}
