import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.ts';
import type { Clock } from '../../src/shared/clock.ts';
import { createLogger } from '../../src/shared/log.ts';
import type { SendRecord } from '../../src/sms/send-log.ts';
import { wireSmsSender, type SmsDeliveryStores } from '../../src/sms-wiring.ts';

/** The SMS sender exactly as Keystep wires it from configuration, with its log lines and send records captured. */
export function gatewaySender(sms: Record<string, unknown>, clock: Clock = { now: () => new Date() }, stores?: SmsDeliveryStores) {
  const config = loadConfig({}, { env: 'test', sms: { sender: 'http', ...sms } });
  const logLines: string[] = [];
  const records: SendRecord[] = [];
  const log = createLogger('debug', new Writable({ write(chunk, _e, done) { logLines.push(String(chunk)); done(); } }) as never);
  const wiring = wireSmsSender(config, log, clock, async (r) => { records.push(r); }, undefined, stores);
  return { ...wiring, logLines, records };
}
