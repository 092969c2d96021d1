import { sql, type Kysely } from 'kysely';

// The pumping breaker judges a range by the codes entered against the codes that may have arrived:
// a send that the provider's delivery receipts report undelivered or failed could not be entered,
// so it no longer counts as a code sent there. Without this, an outage of one provider (its
// receipts saying nothing arrives) paused its users' ranges and countries, stopping the new codes
// they asked for through another provider, and the pause outlasted the outage.
// keystep_take_sms is otherwise unchanged: its definition is read back and only the breaker's two
// counts (one per range scope) are replaced.
const BEFORE = 'count(*)::integer, count(m.entered_at)::integer into v_sent, v_entered';
const AFTER = `count(*) filter (where m.delivery is null or m.delivery not in ('undelivered', 'failed'))::integer, count(m.entered_at)::integer into v_sent, v_entered`;

async function replaceCounts(db: Kysely<any>, from: string, to: string): Promise<void> {
  const result = await sql<{ def: string }>`select pg_get_functiondef('keystep_take_sms(jsonb)'::regprocedure) as def`.execute(db);
  const definition = result.rows[0]!.def;
  const found = definition.split(from).length - 1;
  if (found !== 2) throw new Error(`keystep_take_sms: expected the breaker's two counts, found ${found}`);
  await sql.raw(definition.split(from).join(to)).execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await replaceCounts(db, BEFORE, AFTER);
}

export async function down(db: Kysely<any>): Promise<void> {
  await replaceCounts(db, AFTER, BEFORE);
}
