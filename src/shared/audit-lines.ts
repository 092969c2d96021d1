import type { Logger } from './log.ts';

interface AuditStore<E> {
  record(event: E): Promise<void>;
}

/**
 * The audit trail, and each event once stored also as a JSON line among the logs, for a log
 * shipper (`audit.stdout`). At level info whatever the log level: asking for the lines is asking
 * for all of them. The events hold no secret (numbers masked); the logger's redaction covers
 * anything a detail should not have carried.
 */
export function withAuditLines<E extends object, S extends AuditStore<E>>(store: S, log: Logger): S {
  const lines = log.child({ audit: true }, { level: 'info' });
  return {
    ...store,
    async record(event: E) {
      await store.record(event);
      lines.info({ ...event } as Record<string, unknown>, 'audit event');
    },
  };
}
