export interface AppErrorOptions {
  /** Whether the code and its text may be shown to the user. Default: 4xx yes, 5xx no. */
  expose?: boolean;
  /** Text to show instead of the code's own message (the provider's `error_description`). */
  description?: string;
  cause?: unknown;
}

/**
 * A request-level failure, shaped like oidc-provider's OIDCProviderError (status, code, expose) so
 * that Keystep's errors and the provider's go through one renderer. An error that is not exposed
 * gets only the generic page of its status; what went wrong goes to the log.
 */
export class AppError extends Error {
  readonly status: number;
  /** Koa and the provider read either name. */
  readonly statusCode: number;
  readonly code: string;
  readonly expose: boolean;
  readonly description: string | undefined;

  constructor(status: number, code: string, options: AppErrorOptions = {}) {
    super(code, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.statusCode = status;
    this.code = code;
    this.expose = options.expose ?? status < 500;
    this.description = options.description;
  }
}
