import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../shared/clock.ts';
import type { AccountStore, AuditLog } from '../ports.ts';
import type { OtpStore } from './ports.ts';
import type { OtpSending } from './sending.ts';

/** What a factor that sends and checks SMS codes is built from, with the settings it reads. */
export interface SmsCodeDeps<Settings> {
  accounts: AccountStore;
  otp: OtpStore;
  sending: OtpSending;
  audit: AuditLog;
  clock: Clock;
  otpHmacKey: KeyObject;
  settings: Settings;
}
