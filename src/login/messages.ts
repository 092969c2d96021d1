// Every text the user can be shown about a login, in one place (ready for translation).
// Message codes travel between requests; text never does.
export const messages = {
  CREDENTIALS_INCORRECT: 'The username or password is incorrect.',
  CREDENTIALS_MISSING: 'Enter your username and password.',
  PASSWORD_THROTTLED: 'Too many wrong passwords. Wait {seconds} seconds, then try again.',
  ACCOUNT_LOCKED: 'This account is locked after too many failed attempts. Try again in {minutes} minutes or ask your administrator to unlock it.',
  ACCOUNT_DISABLED: 'This account is disabled. Ask your administrator for help.',
  LOGIN_CANCELLED: 'You cancelled the sign-in.',
  LOGIN_EXPIRED: 'This sign-in has expired or is not valid. Go back to the app and start again.',
  CSRF_INVALID: 'This form has expired. Go back to the app and start again.',
  FORM_INVALID: 'The form could not be read. Go back and try again.',
  FORM_TOO_LARGE: 'The form was too large. Go back and try again.',
  FORM_TYPE: 'The form was sent in a format Keystep does not accept.',
  NOT_FOUND: 'There is nothing at this address.',
  SERVER_ERROR: 'Something went wrong on our side. Try again in a moment.',
  STALE_FORM: 'That page was out of date; here is the current step.',
} as const;

export type MessageCode = keyof typeof messages;

export function messageText(code: MessageCode, params: Record<string, string | number> = {}): string {
  return messages[code].replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? ''));
}
