import { GatewayConfigError, resolveGateway, type GatewaySettings } from './gateway-settings.ts';
import type { Delivery } from './port.ts';
import { compileGateway } from './request-template.ts';

/** Where a provider's delivery receipts come from and how they are read (`sms.gateways[].receipts`). */
export interface ReceiptSettings {
  format: 'twilio' | 'generic';
  /** Twilio: the Auth Token that signs its callbacks (default: the gateway's `authToken`). */
  authToken?: string | undefined;
  /** Generic: the shared secret, in `secretHeader` or else as the last segment of the path. */
  secret?: string | undefined;
  secretHeader?: string | undefined;
  /** Generic: a dotted path into a JSON body, or a form field's name. */
  messageIdField?: string | undefined;
  statusField?: string | undefined;
  /** Generic: the provider's own status words, each to one of Keystep's. */
  statusMap?: Record<string, Delivery> | undefined;
}

/** One provider of the list, as the configuration gives it. */
export interface NamedGatewaySettings extends GatewaySettings {
  name: string;
  /** Destinations it serves (calling or ISO codes, as `sms.allowedCountries`); empty: all. */
  countries: string[];
  /** 5xx statuses the provider documents as "not sent": the next provider is tried. */
  notSentStatus: number[];
  circuitFailures?: number | undefined;
  circuitCooldownSeconds?: number | undefined;
  receipts?: ReceiptSettings | undefined;
}

/** The path a provider posts its receipts to (below the issuer). */
export const receiptPath = (name: string) => `/sms/receipts/${name}`;

/**
 * The list Keystep sends through: `sms.gateways`, or else `sms.gateway` alone as a list of one named
 * `default` (with the circuit settings of `sms`). Both at once is a configuration problem.
 */
export function gatewayList(single: GatewaySettings, list: readonly NamedGatewaySettings[]): NamedGatewaySettings[] {
  if (list.length === 0) return [{ ...single, name: 'default', countries: [], notSentStatus: [] }];
  if (single.url !== undefined || single.preset !== undefined) {
    throw new GatewayConfigError(['sms.gateway and sms.gateways: give one provider under sms.gateway, or a list under sms.gateways, not both']);
  }
  return [...list];
}

/** The status callback Keystep's Twilio preset asks for, when receipts are on. */
export function statusCallback(gateway: NamedGatewaySettings, issuer: string | undefined): string | undefined {
  return gateway.receipts && issuer ? `${issuer}${receiptPath(gateway.name)}` : undefined;
}

/** Everything wrong with a list of providers, each problem named by its provider. */
export function gatewayListProblems(list: readonly NamedGatewaySettings[], issuer?: string): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const gateway of list) {
    const where = `sms.gateways.${gateway.name}`;
    if (seen.has(gateway.name)) problems.push(`${where}: two gateways have this name`);
    seen.add(gateway.name);
    try {
      compileGateway(resolveGateway(gateway, statusCallback(gateway, issuer)));
    } catch (err) {
      if (!(err instanceof GatewayConfigError)) throw err;
      problems.push(...err.problems.map((p) => p.replace(/^sms\.gateway\b\.?/, `${where}.`).replace(/^(?!sms\.)/, `${where}: `)));
    }
    const receipts = gateway.receipts;
    if (!receipts) continue;
    if (!gateway.messageIdPath && gateway.preset !== 'twilio') problems.push(`${where}.messageIdPath: receipts are matched by the provider's message id, so the response must give one`);
    if (receipts.format === 'twilio' && !(receipts.authToken ?? gateway.authToken)) problems.push(`${where}.receipts.authToken: Twilio signs its callbacks with the Auth Token; give it here or as the gateway's authToken`);
    if (receipts.format === 'generic') {
      if (!receipts.secret) problems.push(`${where}.receipts.secret: a generic provider's callbacks are authenticated by a shared secret of at least 16 characters`);
      if (!receipts.messageIdField) problems.push(`${where}.receipts.messageIdField: where the message id is in the callback (a JSON path or a form field)`);
      if (!receipts.statusField) problems.push(`${where}.receipts.statusField: where the status is in the callback (a JSON path or a form field)`);
    }
  }
  return problems;
}
