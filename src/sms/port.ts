/** One SMS to send. `to` is E.164; the text may hold a code, so it is never logged by Keystep. */
export interface SmsMessage {
  to: string;
  text: string;
  purpose: 'otp' | 'notice' | 'test';
  /** The code alone, for gateways whose template uses `$ctx.otp`. */
  code?: string;
  accountId?: string | null;
  flowUid?: string | null;
  /** The send-log reservation this SMS uses (the per-account budget was taken before sending). */
  logId?: string | undefined;
}

export interface SmsReceipt {
  /** The gateway's id for the message, when it gives one. */
  messageId?: string;
  status?: number;
  /** The provider that took it (`sms.gateways[].name`). */
  gateway?: string;
}

/**
 * What became of one SMS, as `sms_messages.status` records it. The send budgets count `reserved`,
 * `sent` and `uncertain`: what reached the gateway or may have. `failed` (the gateway answered
 * that it did not send) and `unreached` (it was never reached) cost nothing.
 */
export type SendStatus = 'reserved' | 'sent' | 'uncertain' | 'failed' | 'unreached';

/** What is recorded of each SMS for operators (the number masked, never the text). */
export interface SendRecord {
  /** The reservation this send fills in, when the per-account budget was taken first. */
  id?: string | undefined;
  at: Date;
  accountId: string | null;
  flowUid: string | null;
  purpose: string;
  destination: string;
  status: Exclude<SendStatus, 'reserved'>;
  httpStatus?: number | null;
  providerMessageId?: string | null;
  /** The provider that took it, or the last one tried. */
  gateway?: string | null;
  error?: string | null;
  durationMs: number;
}

/** The gateway did not accept the message (or could not be reached); the user must be told. */
export class SmsDeliveryError extends Error {
  readonly status: number | undefined;
  /** The gateway may have sent it anyway (a timeout, a success without a message id). */
  readonly mayHaveSent: boolean;
  /** The provider tried last, when there is a list of them. */
  readonly gateway: string | undefined;
  constructor(message: string, status?: number, options?: { cause?: unknown; mayHaveSent?: boolean; gateway?: string }) {
    super(message, options);
    this.status = status;
    this.mayHaveSent = options?.mayHaveSent ?? false;
    this.gateway = options?.gateway;
  }

  /** How the send log records this failure. */
  get sendStatus(): Exclude<SendStatus, 'reserved' | 'sent'> {
    if (this.mayHaveSent) return 'uncertain';
    return this.status === undefined ? 'unreached' : 'failed';
  }

  /** A sign the gateway itself is unwell (no answer, 5xx, 429), not a problem with one message. */
  get gatewayFault(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 429;
  }
}

/** The number cannot get an SMS from Keystep: invalid, not a mobile, or outside the allow-list. */
export class SmsDestinationError extends SmsDeliveryError {}

/** The port every SMS leaves Keystep through. Adapters: HTTP gateway, console (development). */
export interface SmsSender {
  send(message: SmsMessage): Promise<SmsReceipt>;
}

/** What a provider's delivery receipts say became of a message. */
export type Delivery = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed';

/**
 * The order receipts are applied in: one never replaces a receipt of the same or a higher rank, so
 * duplicates change nothing and a late "sent" cannot undo "delivered". `undelivered` and `failed`
 * are final and rank alike (the first one stays); `delivered`, the handset's own word, outranks them
 * (a carrier may report a failure it later recovers from, never the reverse).
 */
export const deliveryRank: Readonly<Record<Delivery, number>> = { queued: 1, sent: 2, undelivered: 3, failed: 3, delivered: 4 };

/** Where receipts land: the send log, matched by provider and the provider's message id. */
export interface ReceiptStore {
  /** Applies a receipt unless the message has one of the same or a higher rank. */
  applyReceipt(gateway: string, messageId: string, delivery: Delivery, at: Date): Promise<'updated' | 'unchanged' | 'unknown'>;
}
