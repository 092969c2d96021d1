import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import { prepared } from '../db/prepared.ts';
import type { OtpChallengeRow } from '../db/schema.ts';
import type { LastSend, OtpChallenge, OtpStore } from '../login/sms-codes/ports.ts';

function toChallenge(row: OtpChallengeRow): OtpChallenge {
  return {
    flowUid: row.flow_uid,
    accountId: row.account_id,
    destination: row.destination,
    codeHmac: row.code_hmac,
    expiresAt: row.expires_at,
    attempts: row.attempts,
    sends: row.sends,
    lastSentAt: row.last_sent_at,
    lastSend: row.last_send as LastSend,
    consumed: row.consumed_at !== null,
  };
}

const FOREIGN_KEY_VIOLATION = '23503';

export function otpChallengeRepository(db: Db): OtpStore {
  // Every login with an SMS step runs these, so they are prepared once.
  const find = prepared((p: { flowUid: string }) => db.selectFrom('otp_challenges').selectAll().where('flow_uid', '=', p.flowUid));
  const create = prepared((p: { flowUid: string; accountId: string; destination: string; codeHmac: string; expiresAt: Date; lastSentAt: Date }) =>
    db.insertInto('otp_challenges')
      .values({
        flow_uid: p.flowUid, account_id: p.accountId, destination: p.destination, code_hmac: p.codeHmac,
        expires_at: p.expiresAt, last_sent_at: p.lastSentAt,
      })
      .onConflict((oc) => oc.column('flow_uid').doNothing())
      .returningAll());
  // Counted before the compare, in one statement: parallel guesses cannot exceed the cap.
  const countAttempt = prepared((p: { flowUid: string; maxAttempts: number }) => db.updateTable('otp_challenges')
    .set({ attempts: sql`attempts + 1` })
    .where('flow_uid', '=', p.flowUid).where('consumed_at', 'is', null).where('attempts', '<', p.maxAttempts)
    .returningAll());
  // consume is conditional: of two correct submissions racing, only one changes the row.

  return {
    async find(flowUid) {
      const row = (await find(db, { flowUid })).rows[0];
      return row && toChallenge(row);
    },

    async create(c) {
      try {
        const row = (await create(db, c)).rows[0];
        return row && toChallenge(row);
      } catch (err) {
        // The login's flow went meanwhile (finished or cancelled by a racing request): no challenge.
        if ((err as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) return undefined;
        throw err;
      }
    },

    async replaceCode(flowUid, code, seenSends) {
      // The replaced code's row as it was, read under the row lock in the same statement: should the
      // new code not go out, the old one comes back with every attempt counted on it until now.
      const result = await sql<OtpChallengeRow>`
        with old as (
          select * from otp_challenges
          where flow_uid = ${flowUid} and consumed_at is null and sends = ${seenSends}
          for update
        )
        update otp_challenges c set
          code_hmac = ${code.codeHmac}, destination = ${code.destination}, expires_at = ${code.expiresAt},
          attempts = 0, sends = c.sends + 1, last_sent_at = ${code.sentAt}, last_send = 'sent'
        from old where c.flow_uid = old.flow_uid
        returning old.*`.execute(db);
      const row = result.rows[0];
      return row && toChallenge(row);
    },

    async recordSendOutcome(flowUid, codeHmac, outcome) {
      const counted = outcome === 'uncertain';
      // Only while the code is still this login's: a newer one (a racing resend) keeps its own count.
      await db.updateTable('otp_challenges')
        .set({ last_send: outcome, ...(counted ? {} : { sends: sql`sends - 1` }) })
        .where('flow_uid', '=', flowUid).where('code_hmac', '=', codeHmac)
        .execute();
    },

    async restoreCode(flowUid, failedHmac, previous) {
      await db.updateTable('otp_challenges')
        .set({
          // Guesses at the code that never went out count too.
          code_hmac: previous.codeHmac, destination: previous.destination, expires_at: previous.expiresAt, attempts: sql`attempts + ${previous.attempts}`,
          sends: previous.sends, last_sent_at: previous.lastSentAt, last_send: previous.lastSend,
        })
        .where('flow_uid', '=', flowUid).where('code_hmac', '=', failedHmac)
        .execute();
    },

    async countAttempt(flowUid, maxAttempts) {
      const row = (await countAttempt(db, { flowUid, maxAttempts })).rows[0];
      return row && toChallenge(row);
    },

    async reopen(flowUid, at) {
      await db.updateTable('otp_challenges').set({ consumed_at: null, expires_at: at })
        .where('flow_uid', '=', flowUid).where('consumed_at', 'is not', null).execute();
    },

    async consume(flowUid) {
      // The code was entered: its SMS converted, for the pumping breaker's ratio (the login's newest
      // counted send: the one whose code this is, or the one a failed resend gave back).
      const result = await sql<{ flow_uid: string }>`
        with used as (
          update otp_challenges set consumed_at = now()
          where flow_uid = ${flowUid} and consumed_at is null
          returning flow_uid
        ), entered as (
          update sms_messages set entered_at = now()
          where id = (select m.id from sms_messages m, used where m.flow_uid = used.flow_uid
                      and m.status in ('reserved', 'sent', 'uncertain') order by m.at desc, m.id desc limit 1)
        )
        select flow_uid from used`.execute(db);
      return result.rows.length > 0;
    },
  };
}
