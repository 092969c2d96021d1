import { sql, type Kysely } from 'kysely';

// The account of each provider row, in its own indexed column (set at upsert, as grant_id is), so
// that signing an account out everywhere never parses other rows' payloads: any payload holding a
// \u0000 or a lone surrogate, which a request parameter can put there, makes `payload->>...` fail.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('oidc_payloads').addColumn('account_id', 'text').execute();

  // The backfill reads each payload once: directly when Postgres can, otherwise from its text with
  // every \uXXXX escape taken out (an account id never holds one; `\\` pairs are kept whole, so an
  // escaped backslash followed by "u0000" stays as it was). A row neither way can read keeps no
  // account and lives until it expires; it does not stop the migration.
  await sql.raw(String.raw`
    create function keystep_backfill_account_id(p_model text, p_payload json) returns text
    language plpgsql immutable as $$
    declare
      v_payload json := p_payload;
    begin
      for attempt in 1..2 loop
        begin
          if attempt = 2 then
            v_payload := regexp_replace(p_payload::text, '(\\[^u])|\\u[0-9A-Fa-f]{4}', '\1', 'g')::json;
          end if;
          -- An interaction belongs to the account it is signing in (its result) or already signed in.
          return coalesce(v_payload->>'accountId', case when p_model = 'Interaction'
            then coalesce(v_payload#>>'{result,login,accountId}', v_payload#>>'{session,accountId}') end);
        exception when others then
          null;
        end;
      end loop;
      return null;
    end $$`).execute(db);
  // Rows that cannot have an account (replay records, anonymous interactions) are left unwritten.
  await sql`update oidc_payloads set account_id = keystep_backfill_account_id(model, payload) where payload::text like '%"accountId"%'`.execute(db);
  await sql`drop function keystep_backfill_account_id(text, json)`.execute(db);

  // Most rows have no account (replay records, anonymous interactions): they need no index entry.
  await sql`create index oidc_payloads_account_id on oidc_payloads (account_id) where account_id is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('oidc_payloads_account_id').execute();
  await db.schema.alterTable('oidc_payloads').dropColumn('account_id').execute();
}
