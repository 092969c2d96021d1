import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { SmsDeliveries } from '../login/sms-codes/ports.ts';
import { deliveryRank, type Delivery, type ReceiptStore } from '../sms/port.ts';

// The rank of a delivery state in SQL, from the one definition in receipts.ts.
const deliveryRankSql = sql.raw(`case delivery ${Object.entries(deliveryRank).map(([state, rank]) => `when '${state}' then ${rank}`).join(' ')} else 0 end`);

/** Delivery receipts on the send log, and what a login's sends became. */
/** Sends per provider and outcome in a window, for `keystep sms gateways`. */
export interface GatewayTally {
  gateway: string;
  status: string;
  delivery: string | null;
  count: number;
}

export function smsDeliveryRepository(db: Db): ReceiptStore & SmsDeliveries & {
  usedGateways(flowUid: string): Promise<string[]>;
  recentByGateway(since: Date): Promise<GatewayTally[]>;
} {
  return {
    async applyReceipt(gateway, messageId, delivery, at) {
      // One conditional statement: receipts racing for one message leave the highest rank.
      const updated = await db.updateTable('sms_messages')
        .set({ delivery, delivery_at: at })
        .where('gateway', '=', gateway)
        .where('provider_message_id', '=', messageId)
        .where(sql<boolean>`${deliveryRankSql} < ${deliveryRank[delivery]}`)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) > 0) return 'updated';
      const known = await db.selectFrom('sms_messages').select('id')
        .where('gateway', '=', gateway).where('provider_message_id', '=', messageId).limit(1).executeTakeFirst();
      return known ? 'unchanged' : 'unknown';
    },

    async lastDelivery(flowUid) {
      const row = await db.selectFrom('sms_messages').select('delivery')
        .where('flow_uid', '=', flowUid).where('status', '<>', 'reserved')
        .orderBy('at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
      return (row?.delivery ?? undefined) as Delivery | undefined;
    },

    async recentByGateway(since) {
      const rows = await db.selectFrom('sms_messages')
        .select(['gateway', 'status', 'delivery', (eb) => eb.fn.countAll<string>().as('count')])
        .where('at', '>', since).where('gateway', 'is not', null)
        .groupBy(['gateway', 'status', 'delivery']).orderBy('gateway').orderBy('status').orderBy('delivery').execute();
      return rows.map((r) => ({ gateway: r.gateway!, status: r.status, delivery: r.delivery, count: Number(r.count) }));
    },

    async usedGateways(flowUid) {
      // What reached a provider (or may have) and was not reported delivered: the code may not have come.
      const rows = await db.selectFrom('sms_messages')
        .select(['gateway', (eb) => eb.fn.max('at').as('last')])
        .where('flow_uid', '=', flowUid).where('gateway', 'is not', null)
        .where('status', 'in', ['sent', 'uncertain'])
        .where((eb) => eb.or([eb('delivery', 'is', null), eb('delivery', '<>', 'delivered')]))
        .groupBy('gateway').orderBy('last', 'asc').execute();
      return rows.map((r) => r.gateway!);
    },
  };
}
