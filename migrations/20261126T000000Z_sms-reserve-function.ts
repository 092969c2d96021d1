import { sql, type Kysely } from 'kysely';

// One SMS from the three budgets (the account's, the requesting address's, everyone's) in one round
// trip. It used to take four statements (begin, lock, count and insert, commit), with the
// per-account lock held across all of them.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function keystep_reserve_sms(
      p_account_id uuid, p_flow_uid text, p_ip text, p_at timestamptz, p_destination text,
      p_account_since timestamptz, p_account_limit integer,
      p_ip_since timestamptz, p_ip_limit integer,
      p_global_since timestamptz, p_global_limit integer
    ) returns table (sent_by_account integer, sent_by_ip integer, sent_globally integer, reservation_id text)
    language plpgsql volatile as $$
    begin
      -- Serialises the count-then-insert per account, so parallel logins cannot overspend its budget.
      -- The lock comes first, in its own statement: in a volatile function each statement takes a new
      -- snapshot, so the count below sees every send of the login that held the lock before.
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

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function keystep_reserve_sms(uuid, text, text, timestamptz, text, timestamptz, integer, timestamptz, integer, timestamptz, integer)`.execute(db);
}
