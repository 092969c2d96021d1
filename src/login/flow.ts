import { z } from 'zod';

/** A message code and the numbers its text needs, kept between requests (text never is). */
const notice = z.object({ message: z.string().max(64), params: z.record(z.string(), z.union([z.string().max(256), z.number()])).optional() });

export type Notice = z.infer<typeof notice>;

/**
 * What a login keeps between requests besides its progress: the message of the last submit (shown
 * once), a notice to read before returning to the app, the factor chosen in place of the chain's
 * first pick, its language (so that every page and SMS of one login agree), and one slot per factor that only that factor reads (through its own schema).
 * Unreadable parts (a row written by an older Keystep, or poisoned) read as absent: the login
 * then shows its current step afresh rather than failing.
 */
export const flowDataSchema = z.object({
  flash: notice.optional().catch(undefined),
  notice: notice.optional().catch(undefined),
  choice: z.string().max(64).optional().catch(undefined),
  // The language its pages and SMS are in, chosen by its first form (ui_locales, Accept-Language).
  language: z.string().max(35).optional().catch(undefined),
  // The user chose to sign in afresh rather than continue the session's earlier sign-in.
  fresh: z.literal(true).optional().catch(undefined),
  slots: z.record(z.string(), z.unknown()).catch({}).default({}),
}).catch({ slots: {} });

export type FlowData = z.infer<typeof flowDataSchema>;

export function parseFlowData(raw: unknown): FlowData {
  return flowDataSchema.parse(raw);
}

/** Keystep's own record of one login in progress (or of one account-page change), keyed by the provider's interaction uid. */
export interface LoginFlow {
  uid: string;
  accountId: string | null;
  /** Ids of the factors that passed, in order. */
  passed: string[];
  amr: string[];
  data: FlowData;
  version: number;
  /** The account's sign-out count when its first factor passed: the login is handed over only while it holds. */
  accountSignOuts: number | null;
  /** Another request is handing this finished login to the provider (see FlowStore.claimHandover). */
  handingOver: boolean;
}

export function blankFlow(uid: string): LoginFlow {
  return { uid, accountId: null, accountSignOuts: null, passed: [], amr: [], data: { slots: {} }, version: 0, handingOver: false };
}

/** A factor's slot, read through its schema; anything else reads as empty. */
export function readSlot<S>(data: FlowData, id: string, schema: z.ZodType<S>): S | undefined {
  const parsed = schema.safeParse(data.slots[id]);
  return parsed.success ? parsed.data : undefined;
}

/** The data with one factor's slot replaced (null empties it). */
export function withSlot(data: FlowData, id: string, slot: unknown): FlowData {
  const { [id]: _, ...others } = data.slots;
  return { ...data, slots: slot === null || slot === undefined ? others : { ...others, [id]: slot } };
}
