/** A request-level failure with a status and a message code safe to show to the user. */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string) {
    super(code);
    this.status = status;
    this.code = code;
  }
}
