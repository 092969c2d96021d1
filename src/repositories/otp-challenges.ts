import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { OtpChallengeRow } from '../db/schema.ts';
import type { OtpChallenge, OtpStore } from '../login/ports.ts';

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
    sendFailed: row.send_failed,
    consumed: row.consumed_at !== null,
  };
}

export function otpChallengeRepository(db: Db): OtpStore {
  return {
    async find(flowUid) {
      const row = await db.selectFrom('otp_challenges').selectAll().where('flow_uid', '=', flowUid).executeTakeFirst();
      return row && toChallenge(row);
    },

    async create(c) {
      const result = await db.insertInto('otp_challenges')
        .values({
          flow_uid: c.flowUid, account_id: c.accountId, destination: c.destination, code_hmac: c.codeHmac,
          expires_at: c.expiresAt, last_sent_at: c.lastSentAt,
        })
        .onConflict((oc) => oc.column('flow_uid').doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },

    async replaceCode(flowUid, code, seenSends) {
      const result = await db.updateTable('otp_challenges')
        .set({
          code_hmac: code.codeHmac, destination: code.destination, expires_at: code.expiresAt,
          attempts: 0, sends: sql`sends + 1`, last_sent_at: code.sentAt, send_failed: false,
        })
        .where('flow_uid', '=', flowUid).where('consumed_at', 'is', null).where('sends', '=', seenSends)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async setSendFailed(flowUid, failed) {
      await db.updateTable('otp_challenges').set({ send_failed: failed }).where('flow_uid', '=', flowUid).execute();
    },

    async countAttempt(flowUid, maxAttempts) {
      // Counted before the compare, in one statement: parallel guesses cannot exceed the cap.
      const row = await db.updateTable('otp_challenges')
        .set({ attempts: sql`attempts + 1` })
        .where('flow_uid', '=', flowUid).where('consumed_at', 'is', null).where('attempts', '<', maxAttempts)
        .returningAll()
        .executeTakeFirst();
      return row && toChallenge(row);
    },

    async consume(flowUid) {
      // Conditional: of two correct submissions racing, only one changes the row.
      const result = await db.updateTable('otp_challenges')
        .set({ consumed_at: sql`now()` as never })
        .where('flow_uid', '=', flowUid).where('consumed_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}
