import { sql, type Kysely } from 'kysely';

// Which factors (beyond the password and the phone number) each account has, when each was added
// and last used: read with the account in one statement, so that no factor needs a query of its
// own to say whether the account has it. A factor's store keeps its row with its own.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('account_factors')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('factor', 'text', (c) => c.notNull().check(sql`length(factor) between 1 and 64`))
    .addColumn('enrolled_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .addPrimaryKeyConstraint('account_factors_pkey', ['account_id', 'factor'])
    .execute();
  await sql`insert into account_factors (account_id, factor, enrolled_at, last_used_at)
    select account_id, 'totp', created_at, last_used_at from totp_credentials`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('account_factors').execute();
}
