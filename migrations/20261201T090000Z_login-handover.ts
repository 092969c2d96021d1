import { type Kysely } from 'kysely';

// A login is handed to the provider once: the request that wins the hand-over marks the flow in the
// same conditional statement that saves its progress, and every other request of that login sees
// the mark (until a short lease runs out, should the winner die before the provider took it).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('login_flows').addColumn('handover_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('login_flows').dropColumn('handover_at').execute();
}
