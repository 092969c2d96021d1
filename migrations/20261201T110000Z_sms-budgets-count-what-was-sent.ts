import { sql, type Kysely } from 'kysely';

// The SMS budgets count only what reached the gateway or may have, and hold across accounts:
// - keystep_reserve_sms takes one lock for every reservation (the per-account lock it took before let
//   simultaneous logins of many accounts overspend the per-address and global budgets), counts rows
//   by status, and says when a spent budget frees a send;
// - a login's challenge records what became of its last send (sent, failed, refused, uncertain)
//   instead of a failed flag, so the code page can say which.
const COUNTED = `('reserved', 'sent', 'uncertain')`;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop function keystep_reserve_sms(uuid, text, text, timestamptz, text, timestamptz, integer, timestamptz, integer, timestamptz, integer)`.execute(db);
  await sql.raw(`
    create function keystep_reserve_sms(
      p_account_id uuid, p_flow_uid text, p_ip text, p_at timestamptz, p_destination text,
      p_account_since timestamptz, p_account_limit integer,
      p_ip_since timestamptz, p_ip_limit integer,
      p_global_since timestamptz, p_global_limit integer
    ) returns table (sent_by_account integer, sent_by_ip integer, sent_globally integer, reservation_id text, retry_at timestamptz)
    language plpgsql volatile as $$
    declare
      v_account integer;
      v_ip integer;
      v_overall integer;
      v_id text;
      v_retry timestamptz;
    begin
      -- The global budget is shared by every reservation, so every reservation takes the same lock;
      -- it then serialises the per-account and per-address counts as well. One lock, taken first and
      -- alone, cannot deadlock. It is held only for the counts and the insert below (the caller's
      -- statement is its own transaction). In a volatile function each statement takes a new
      -- snapshot, so the counts see every reservation committed by the holder before.
      perform pg_advisory_xact_lock(hashtextextended('keystep:sms-reserve', 0));
      -- Each count stops at its limit, so none reads more rows than its budget holds.
      select count(*)::integer into v_account from (
        select 1 from sms_messages m where m.account_id = p_account_id and m.at > p_account_since and m.status in ${COUNTED} limit p_account_limit) a;
      select count(*)::integer into v_ip from (
        select 1 from sms_messages m where p_ip is not null and m.ip = p_ip and m.at > p_ip_since and m.status in ${COUNTED} limit p_ip_limit) i;
      select count(*)::integer into v_overall from (
        select 1 from sms_messages m where m.at > p_global_since and m.status in ${COUNTED} limit p_global_limit) g;
      if v_account < p_account_limit and (p_ip is null or v_ip < p_ip_limit) and v_overall < p_global_limit then
        insert into sms_messages (at, account_id, flow_uid, ip, purpose, destination, status)
        values (p_at, p_account_id, p_flow_uid, p_ip, 'otp', p_destination, 'reserved')
        returning id::text into v_id;
      -- Refused: the spent budget frees a send when its oldest counted send leaves the window.
      elsif v_account >= p_account_limit then
        select min(m.at) + (p_at - p_account_since) into v_retry from sms_messages m
        where m.account_id = p_account_id and m.at > p_account_since and m.status in ${COUNTED};
      elsif p_ip is not null and v_ip >= p_ip_limit then
        select min(m.at) + (p_at - p_ip_since) into v_retry from sms_messages m
        where m.ip = p_ip and m.at > p_ip_since and m.status in ${COUNTED};
      else
        select min(m.at) + (p_at - p_global_since) into v_retry from sms_messages m
        where m.at > p_global_since and m.status in ${COUNTED};
      end if;
      return query select v_account, v_ip, v_overall, v_id, v_retry;
    end
    $$`).execute(db);

  await db.schema.alterTable('otp_challenges').addColumn('last_send', 'text', (c) => c.notNull().defaultTo('sent')).execute();
  await sql`update otp_challenges set last_send = 'failed' where send_failed`.execute(db);
  await db.schema.alterTable('otp_challenges').dropColumn('send_failed').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('otp_challenges').addColumn('send_failed', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  await sql`update otp_challenges set send_failed = true where last_send in ('failed', 'refused')`.execute(db);
  await db.schema.alterTable('otp_challenges').dropColumn('last_send').execute();

  await sql`drop function keystep_reserve_sms(uuid, text, text, timestamptz, text, timestamptz, integer, timestamptz, integer, timestamptz, integer)`.execute(db);
  // The function as migration 20261126T000000Z created it.
  await sql`
    create function keystep_reserve_sms(
      p_account_id uuid, p_flow_uid text, p_ip text, p_at timestamptz, p_destination text,
      p_account_since timestamptz, p_account_limit integer,
      p_ip_since timestamptz, p_ip_limit integer,
      p_global_since timestamptz, p_global_limit integer
    ) returns table (sent_by_account integer, sent_by_ip integer, sent_globally integer, reservation_id text)
    language plpgsql volatile as $$
    begin
      perform pg_advisory_xact_lock(hashtextextended('sms:' || p_account_id::text, 0));
      return query
        with counts as (
          select count(*) filter (where m.account_id = p_account_id and m.at > p_account_since)::integer as by_account,
                 count(*) filter (where m.ip = p_ip and m.at > p_ip_since)::integer as by_ip,
                 count(*) filter (where m.at > p_global_since)::integer as overall
          from sms_messages m where m.at > least(p_account_since, p_ip_since, p_global_since)
        ), reserved as (
          insert into sms_messages (at, account_id, flow_uid, ip, purpose, destination, status)
          select p_at, p_account_id, p_flow_uid, p_ip, 'otp', p_destination, 'reserved' from counts
          where by_account < p_account_limit and (p_ip is null or by_ip < p_ip_limit) and overall < p_global_limit
          returning sms_messages.id
        )
        select counts.by_account, counts.by_ip, counts.overall, (select reserved.id::text from reserved) from counts;
    end
    $$`.execute(db);
}
