import type { Config } from './schema.ts';

const DAY = 86_400;

/**
 * How long the sweep keeps audit events and SMS send-log rows, in seconds. The send log is also the
 * SMS budgets' count: a row younger than the longest budget window is never pruned, whatever the
 * setting says (a window added to the budgets belongs in this list).
 */
export function retentionSeconds(config: Config): { authEvents: number; smsMessages: number } {
  const b = config.sms.budgets;
  const longestBudgetWindow = Math.max(
    config.smsOtp.userSendWindowSeconds, config.sms.velocityWindowSeconds, DAY /* perDay */,
    b.numberWindowSeconds, b.prefixWindowSeconds, b.countryWindowSeconds, b.backoffWindowSeconds, config.sms.pumping.windowSeconds,
  );
  return {
    authEvents: config.audit.retentionDays * DAY,
    smsMessages: Math.max(config.audit.smsRetentionDays * DAY, longestBudgetWindow),
  };
}
