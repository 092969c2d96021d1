// Errors that mean "the database cannot serve right now" rather than "this request is wrong": a
// timeout of ours, a server that is down, restarting or out of connections. They get a 503 and
// "try again shortly", never a 500 with a stack.

// SQLSTATE: 57014 a statement cancelled by statement_timeout (Keystep cancels nothing else),
// 57P01-57P03 shutdown and start-up, 25P03 idle_in_transaction_session_timeout.
const codes = new Set(['57014', '57P01', '57P02', '57P03', '25P03']);
// Classes 08 (connection exception) and 53 (insufficient resources: too many connections, memory).
const classes = ['08', '53'];
// Socket errors while reaching the server (a Unix socket that is gone is ENOENT).
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOENT', 'EHOSTUNREACH', 'ENETUNREACH']);
// The pg driver's own timeouts and lost connections carry no code, only these messages.
const driverMessages = /^(timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error|Client was closed and is not queryable|Cannot use a pool after calling end)/;

interface ErrorLike { code?: unknown; syscall?: unknown; message?: unknown; cause?: unknown; errors?: unknown }

export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 3) return false;
  const e = err as ErrorLike;
  const code = e.code;
  if (typeof code === 'string') {
    if (codes.has(code) || (code.length === 5 && classes.some((c) => code.startsWith(c)))) return true;
    // A missing file elsewhere (a view, say) is ENOENT too: only a failed connect counts.
    if (socketCodes.has(code) && (code !== 'ENOENT' || e.syscall === 'connect')) return true;
  }
  if (typeof e.message === 'string' && driverMessages.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

/** What the log says about it: the code and the driver's message, no statement, no parameters. */
export function unavailableReason(err: unknown): { code?: string; message?: string } {
  const e = (err ?? {}) as ErrorLike;
  return { ...(typeof e.code === 'string' ? { code: e.code } : {}), ...(typeof e.message === 'string' ? { message: e.message.slice(0, 200) } : {}) };
}

/** Seconds a client is asked to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;
