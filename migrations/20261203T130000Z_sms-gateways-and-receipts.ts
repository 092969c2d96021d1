import { sql, type Kysely } from 'kysely';

// Several SMS providers and their delivery receipts:
// - `gateway` names the provider that took the message (or was tried last), so a receipt is matched
//   by provider and message id, and a new code of the same login can go to another provider;
// - `delivery` is what the provider's receipts said last (queued, sent, delivered, undelivered,
//   failed), kept apart from `status`, which is what the budgets count: a receipt never changes
//   what a send cost.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sms_messages')
    .addColumn('gateway', 'text', (c) => c.check(sql`length(gateway) between 1 and 64`))
    .addColumn('delivery', 'text', (c) => c.check(sql`delivery in ('queued', 'sent', 'delivered', 'undelivered', 'failed')`))
    .addColumn('delivery_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('sms_messages_gateway_message').on('sms_messages').columns(['gateway', 'provider_message_id'])
    .where(sql.ref('provider_message_id'), 'is not', null).execute();
  await db.schema.createIndex('sms_messages_flow_uid').on('sms_messages').column('flow_uid')
    .where(sql.ref('flow_uid'), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sms_messages_flow_uid').execute();
  await db.schema.dropIndex('sms_messages_gateway_message').execute();
  await db.schema.alterTable('sms_messages').dropColumn('delivery_at').dropColumn('delivery').dropColumn('gateway').execute();
}
