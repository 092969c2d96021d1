import { sql, type Kysely } from 'kysely';

// Indexes the new statements need, and one less to keep up:
// - sms_messages_flow repeats sms_messages_flow_uid (a later migration made both on flow_uid);
// - the pumping breaker counts a range's or a country's sends of the last window, under the SMS
//   lock, reading status, delivery and entered_at: with them in the index it reads no table rows;
// - the phone-uniqueness check (under its lock) and findIdsByVerifiedPhone look up verified numbers.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sms_messages_flow').execute();
  for (const [name, column] of [['sms_messages_prefix_at', 'prefix'], ['sms_messages_country_at', 'country']] as const) {
    await db.schema.dropIndex(name).execute();
    await sql`create index ${sql.id(name)} on sms_messages (${sql.id(column)}, at) include (status, delivery, entered_at)`.execute(db);
  }
  await sql`create index accounts_verified_phone on accounts (phone) where phone_verified_at is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('accounts_verified_phone').execute();
  for (const [name, column] of [['sms_messages_prefix_at', 'prefix'], ['sms_messages_country_at', 'country']] as const) {
    await db.schema.dropIndex(name).execute();
    await db.schema.createIndex(name).on('sms_messages').columns([column, 'at']).execute();
  }
  await db.schema.createIndex('sms_messages_flow').on('sms_messages').column('flow_uid').execute();
}
