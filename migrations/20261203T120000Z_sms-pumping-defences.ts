import { sql, type Kysely } from 'kysely';

// The SMS budgets against pumping, shared by every instance:
// - each send records the keys it is counted under: the number (an HMAC, never the number itself),
//   its prefix (the number without its last digits), its country, when the next send to its account
//   or number may go (the back-off), and when its code was entered (the conversion ratio);
// - sms_pauses: the prefixes and countries the pumping breaker (or an operator) paused;
// - keystep_take_sms checks the pauses, judges the ratio of the range, counts every budget and the
//   back-off, and inserts the reservation only if all allow it, under one lock, in one round trip.
//   keystep_reserve_sms stays for instances still running the previous release during an upgrade.
const COUNTED = `('reserved', 'sent', 'uncertain')`;

// Each budget and range is its own static statement, so that each uses its own index.
const BUDGETS: Array<[name: string, where: string]> = [
  ['login', 'm.flow_uid = v_flow'],
  ['account', 'm.account_id = v_account'],
  ['number', 'm.number_key = v_number'],
  ['prefix', 'm.prefix = v_prefix'],
  ['address', 'v_ip is not null and m.ip = v_ip'],
  ['country', 'm.country = v_country'],
  ['hour', 'true'],
  ['day', 'true'],
];

const budget = ([name, where]: [string, string]) => `
      if b ? '${name}' then
        v_since := (b->'${name}'->>'since')::timestamptz;
        v_limit := (b->'${name}'->>'limit')::integer;
        select count(*)::integer into v_count from (
          select 1 from sms_messages m where ${where} and m.at > v_since and m.status in ${COUNTED} limit v_limit) c;
        if v_count >= v_limit then
          -- The budget frees a send when its oldest counted send leaves the window.
          select min(m.at) + (v_at - v_since) into v_retry from sms_messages m
          where ${where} and m.at > v_since and m.status in ${COUNTED};
          return jsonb_build_object('refused', '${name}', 'retry_at', v_retry);
        end if;
      end if;`;

const RANGES: Array<[scope: string, column: string, value: string]> = [['prefix', 'prefix', 'v_prefix'], ['country', 'country', 'v_country']];

const judge = ([scope, column, value]: [string, string, string]) => `
        if ${value} is not null then
          select greatest((j->>'since')::timestamptz, coalesce(max(s.judged_from), '-infinity')) into v_from
          from sms_pauses s where s.scope = '${scope}' and s.range = ${value};
          select count(*)::integer, count(m.entered_at)::integer into v_sent, v_entered from sms_messages m
          where m.${column} = ${value} and m.at > v_from and m.at <= (j->>'until')::timestamptz and m.status in ${COUNTED};
          if v_sent >= (j->>'${scope}_min_sent')::integer and v_entered::double precision / v_sent < (j->>'threshold')::double precision then
            insert into sms_pauses (scope, range, paused, reason, sent, entered, changed_at, judged_from)
            values ('${scope}', ${value}, true, 'automatic', v_sent, v_entered, v_at, v_at)
            on conflict (scope, range) do update set paused = true, reason = 'automatic', sent = excluded.sent,
              entered = excluded.entered, changed_at = excluded.changed_at, judged_from = excluded.judged_from;
            return jsonb_build_object('refused', 'paused', 'scope', '${scope}', 'range', ${value}, 'paused_now', true, 'sent', v_sent, 'entered', v_entered);
          end if;
        end if;`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sms_messages')
    .addColumn('number_key', 'text')
    .addColumn('prefix', 'text')
    .addColumn('country', 'text')
    .addColumn('next_send_at', 'timestamptz')
    .addColumn('entered_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('sms_messages_number_at').on('sms_messages').columns(['number_key', 'at']).execute();
  await db.schema.createIndex('sms_messages_prefix_at').on('sms_messages').columns(['prefix', 'at']).execute();
  await db.schema.createIndex('sms_messages_country_at').on('sms_messages').columns(['country', 'at']).execute();
  await db.schema.createIndex('sms_messages_flow').on('sms_messages').column('flow_uid').execute();

  await db.schema.createTable('sms_pauses')
    .addColumn('scope', 'text', (c) => c.notNull().check(sql`scope in ('prefix', 'country')`))
    .addColumn('range', 'text', (c) => c.notNull())
    .addColumn('paused', 'boolean', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('sent', 'integer')
    .addColumn('entered', 'integer')
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull())
    // The breaker judges only sends after this (a resumed range starts afresh).
    .addColumn('judged_from', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('sms_pauses_pkey', ['scope', 'range'])
    .execute();

  await sql.raw(`
    create function keystep_take_sms(p jsonb) returns jsonb
    language plpgsql volatile as $$
    declare
      v_at timestamptz := (p->>'at')::timestamptz;
      v_account uuid := (p->>'account_id')::uuid;
      v_flow text := p->>'flow_uid';
      v_ip text := p->>'ip';
      v_number text := p->>'number_key';
      v_prefix text := p->>'prefix';
      v_country text := p->>'country';
      b jsonb := p->'budgets';
      k jsonb := p->'backoff';
      j jsonb := p->'breaker';
      v_since timestamptz;
      v_limit integer;
      v_count integer;
      v_retry timestamptz;
      v_scope text;
      v_range text;
      v_from timestamptz;
      v_sent integer;
      v_entered integer;
      v_index integer;
      v_wait double precision;
      v_id text;
    begin
      -- One lock for every reservation, as keystep_reserve_sms: the shared budgets are shared by all.
      perform pg_advisory_xact_lock(hashtextextended('keystep:sms-reserve', 0));

      -- A paused range sends nothing (a prefix pause covers every longer prefix).
      select s.scope, s.range into v_scope, v_range from sms_pauses s
      where s.paused and ((s.scope = 'prefix' and starts_with(v_prefix, s.range)) or (s.scope = 'country' and s.range = v_country))
      limit 1;
      if v_scope is not null then
        return jsonb_build_object('refused', 'paused', 'scope', v_scope, 'range', v_range);
      end if;

      -- The pumping breaker: of the codes sent to this range that had time to be entered, too few were.
      if (j->>'enabled')::boolean then
${RANGES.map(judge).join('\n')}
      end if;

      -- Every count budget that is given; each count stops at its limit.
${BUDGETS.map(budget).join('\n')}

      -- The back-off: a send to this account or number set when the next one may go.
      select max(m.next_send_at) into v_retry from sms_messages m
      where (m.account_id = v_account or m.number_key = v_number) and m.at > (k->>'since')::timestamptz
        and m.status in ${COUNTED} and m.next_send_at > v_at;
      if v_retry is not null then
        return jsonb_build_object('refused', 'backoff', 'retry_at', v_retry);
      end if;
      select greatest(
        (select count(*) from sms_messages m where m.account_id = v_account and m.at > (k->>'since')::timestamptz and m.status in ${COUNTED}),
        (select count(*) from sms_messages m where m.number_key = v_number and m.at > (k->>'since')::timestamptz and m.status in ${COUNTED})
      )::integer + 1 into v_index;
      v_wait := case when v_index < (k->>'after')::integer then 0
        else least((k->>'max_seconds')::double precision, (k->>'min_seconds')::double precision * 2 ^ (v_index - (k->>'after')::integer))
          * (1 + (k->>'jitter')::double precision) end;

      insert into sms_messages (at, account_id, flow_uid, ip, purpose, destination, status, number_key, prefix, country, next_send_at)
      values (v_at, v_account, v_flow, v_ip, 'otp', p->>'destination', 'reserved', v_number, v_prefix, v_country,
        case when v_wait > 0 then v_at + make_interval(secs => v_wait) end)
      returning id::text into v_id;
      return jsonb_build_object('id', v_id);
    end
    $$`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function keystep_take_sms(jsonb)`.execute(db);
  await db.schema.dropTable('sms_pauses').execute();
  for (const index of ['sms_messages_number_at', 'sms_messages_prefix_at', 'sms_messages_country_at', 'sms_messages_flow']) {
    await db.schema.dropIndex(index).execute();
  }
  await db.schema.alterTable('sms_messages')
    .dropColumn('number_key').dropColumn('prefix').dropColumn('country').dropColumn('next_send_at').dropColumn('entered_at')
    .execute();
}
