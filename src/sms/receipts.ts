import { createHmac } from 'node:crypto';
import { sameSecret } from '../shared/same-secret.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/log.ts';
import { storableText } from '../shared/text.ts';
import type { ReceiptSettings } from './gateway-list.ts';
import { deliveryRank, type Delivery, type ReceiptStore } from './port.ts';

/** Twilio's MessageStatus values; those that say nothing of delivery (receiving, received) are not listed. */
const TWILIO_STATUS: Readonly<Record<string, Delivery>> = {
  accepted: 'queued', scheduled: 'queued', queued: 'queued', sending: 'sent', sent: 'sent',
  delivered: 'delivered', read: 'delivered', undelivered: 'undelivered', failed: 'failed', canceled: 'failed',
};

/** A receipt as it arrived: `publicUrl` is the URL the provider posted to (Twilio signs it). */
export interface ReceiptRequest {
  publicUrl: string;
  /** The path segment after the gateway's name, when the secret travels in the path. */
  pathSecret?: string | undefined;
  headers: Record<string, string | undefined>;
  contentType: string;
  body: string;
}

export interface ReceiptAnswer {
  status: number;
  message: string;
}

export interface ReceiptGateway {
  name: string;
  receipts: ReceiptSettings;
  /** Twilio: the Auth Token, when `receipts.authToken` is not set. */
  authToken?: string | undefined;
}

// Both sides hashed first: the compare takes as long whatever the lengths.
/** Twilio's X-Twilio-Signature: base64 HMAC-SHA1 of the URL followed by each POST field's name and value, sorted by name. */
export function twilioSignature(authToken: string, url: string, params: readonly [string, string][]): string {
  const sorted = [...params].sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return createHmac('sha1', authToken).update(url + sorted.map(([k, v]) => k + v).join(''), 'utf8').digest('base64');
}

function atPath(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' && Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined), value);
}

type Parsed = { kind: 'form'; params: [string, string][] } | { kind: 'json'; value: unknown };

function parseBody(req: ReceiptRequest): Parsed | ReceiptAnswer {
  const type = req.contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return { kind: 'form', params: [...new URLSearchParams(req.body)] };
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return { kind: 'json', value: JSON.parse(req.body) as unknown };
    } catch {
      return { status: 400, message: 'the body is not valid JSON' };
    }
  }
  return { status: 415, message: 'a receipt is a form (application/x-www-form-urlencoded) or JSON' };
}

function field(parsed: Parsed, name: string): unknown {
  if (parsed.kind === 'json') return atPath(parsed.value, name);
  const values = parsed.params.filter(([k]) => k === name);
  return values.length === 1 ? values[0]![1] : undefined;
}

const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);

/**
 * Checks and applies the delivery receipts providers post back. Anything that is not a well-formed
 * receipt from the provider itself (a bad signature or secret, an unknown message, a status
 * Keystep does not know) gets a 4xx and changes nothing.
 */
export function receiptIntake(gateways: readonly ReceiptGateway[], store: ReceiptStore, clock: Clock, log: Logger) {
  const byName = new Map(gateways.map((g) => [g.name, g]));

  function authentic(gateway: ReceiptGateway, req: ReceiptRequest, parsed: Parsed): boolean {
    const { receipts } = gateway;
    if (receipts.format === 'twilio') {
      const token = receipts.authToken ?? gateway.authToken ?? '';
      const given = req.headers['x-twilio-signature'] ?? '';
      return parsed.kind === 'form' && token !== '' && sameSecret(given, twilioSignature(token, req.publicUrl, parsed.params));
    }
    const given = receipts.secretHeader ? req.headers[receipts.secretHeader.toLowerCase()] : req.pathSecret;
    return given !== undefined && receipts.secret !== undefined && sameSecret(given, receipts.secret);
  }

  return async function receive(name: string, req: ReceiptRequest): Promise<ReceiptAnswer> {
    const gateway = byName.get(name);
    if (!gateway) return { status: 404, message: 'no gateway of this name takes receipts' };
    // A secret in the path goes only where the settings put it: another segment is a wrong address.
    const pathSecretExpected = gateway.receipts.format === 'generic' && !gateway.receipts.secretHeader;
    if ((req.pathSecret !== undefined) !== pathSecretExpected) return { status: 404, message: 'no gateway of this name takes receipts here' };
    const parsed = parseBody(req);
    if ('status' in parsed) return parsed;
    if (!authentic(gateway, req, parsed)) {
      log.warn({ gateway: name }, 'sms receipt refused: bad signature or secret');
      return { status: 403, message: 'the signature or secret is not right' };
    }
    const { receipts } = gateway;
    const twilio = receipts.format === 'twilio';
    const messageId = text(field(parsed, twilio ? 'MessageSid' : receipts.messageIdField ?? ''));
    const reported = text(field(parsed, twilio ? 'MessageStatus' : receipts.statusField ?? ''));
    if (!messageId || messageId.length > 200 || messageId.includes('\u0000')) return { status: 400, message: 'the receipt has no message id' };
    if (!reported) return { status: 400, message: 'the receipt has no status' };
    const words = twilio ? TWILIO_STATUS : receipts.statusMap ?? {};
    const delivery = Object.hasOwn(words, reported) ? words[reported] : (Object.hasOwn(deliveryRank, reported.toLowerCase()) ? reported.toLowerCase() as Delivery : undefined);
    if (!delivery) return { status: 422, message: 'the status is not one Keystep knows' };
    const outcome = await store.applyReceipt(name, messageId, delivery, clock.now());
    if (outcome === 'unknown') {
      log.warn({ gateway: name, messageId: storableText(messageId, 200) }, 'sms receipt for an unknown message');
      return { status: 404, message: 'no message with this id was sent through this gateway' };
    }
    log.info({ gateway: name, messageId, delivery, applied: outcome === 'updated' }, 'sms receipt');
    return { status: 200, message: outcome === 'updated' ? 'recorded' : 'already recorded' };
  };
}

export type ReceiptIntake = ReturnType<typeof receiptIntake>;
