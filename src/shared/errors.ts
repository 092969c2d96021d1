/** A request-level failure with a status and a message code safe to show to the user. */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  constructor(status: number, code: string, message?: string, expose = true) {
    super(message ?? code);
    this.status = status;
    this.code = code;
    this.expose = expose;
  }
}
