import { sql, type Kysely } from 'kysely';

// The SMS one-time-code step: challenges per login, backup codes, the SMS log, and the account lock.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts')
    .addColumn('failed_otp_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('otp_locked_until', 'timestamptz')
    .execute();

  await db.schema
    .createTable('otp_challenges')
    .addColumn('flow_uid', 'text', (c) => c.primaryKey().references('login_flows.uid').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('destination', 'text', (c) => c.notNull())
    .addColumn('code_hmac', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sends', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('last_sent_at', 'timestamptz', (c) => c.notNull())
    .addColumn('send_failed', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('consumed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('backup_codes')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index backup_codes_unused on backup_codes (account_id) where used_at is null`.execute(db);

  await db.schema
    .createTable('sms_messages')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('account_id', 'uuid', (c) => c.references('accounts.id').onDelete('set null'))
    .addColumn('flow_uid', 'text')
    .addColumn('ip', 'text')
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('destination', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('http_status', 'integer')
    .addColumn('provider_message_id', 'text')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer')
    .execute();
  await db.schema.createIndex('sms_messages_account_at').on('sms_messages').columns(['account_id', 'at']).execute();
  await db.schema.createIndex('sms_messages_at').on('sms_messages').column('at').execute();
  await db.schema.createIndex('sms_messages_ip_at').on('sms_messages').columns(['ip', 'at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sms_messages').execute();
  await db.schema.dropTable('backup_codes').execute();
  await db.schema.dropTable('otp_challenges').execute();
  await db.schema.alterTable('accounts').dropColumn('otp_locked_until').dropColumn('failed_otp_count').execute();
}
