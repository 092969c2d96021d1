import { UsageError } from './context.ts';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `30m`, `12h`, `7d`: a length of time in seconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,7})([smhd])$/.exec(text.trim());
  return match ? Number(match[1]) * UNITS[match[2]!]! : undefined;
}

/** A duration option's value in seconds, or a usage error that names the option. */
export function durationOption(option: string, text: string): number {
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new UsageError(`${option} is a length of time such as 90s, 30m, 12h or 7d, not ${JSON.stringify(text)}`);
  return seconds;
}

/** Whether the fields name a day and time that exist: Date would take 30 February for 2 March. */
function realTime(parts: RegExpExecArray): boolean {
  const [year, month, day, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] = parts.slice(1).map((p) => (p === undefined ? undefined : Number(p))) as number[];
  const date = new Date(Date.UTC(year!, month! - 1, day!));
  return date.getUTCMonth() === month! - 1 && date.getUTCDate() === day
    && hour! <= 23 && minute! <= 59 && second! <= 59 && offsetHours! <= 23 && offsetMinutes! <= 59;
}

/**
 * A point in time given on the command line: an ISO 8601 date or date and time (`2026-12-01`,
 * `2026-12-01T10:00:00Z`; a date alone is midnight UTC), or a duration before now (`7d`: 7 days ago).
 */
export function timeOption(option: string, text: string, now: Date): Date {
  const ago = parseDuration(text);
  if (ago !== undefined) return new Date(now.getTime() - ago * 1000);
  const parts = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/.exec(text);
  const iso = parts && realTime(parts) ? new Date(text) : undefined;
  if (!iso || Number.isNaN(iso.getTime())) {
    throw new UsageError(`${option} is an ISO 8601 date or time (2026-12-01, 2026-12-01T10:00:00Z) or a time ago (12h, 7d), not ${JSON.stringify(text)}`);
  }
  return iso;
}
