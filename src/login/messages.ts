// Every text the user can be shown about a login, in one place (ready for translation).
// Message codes travel between requests; text never does.
export const messages = {
  CREDENTIALS_INCORRECT: 'The username or password is incorrect.',
  CREDENTIALS_MISSING: 'Enter your username and password.',
  PASSWORD_THROTTLED: 'Too many wrong passwords for this username. Wait {seconds} seconds, then try again.',
  ACCOUNT_LOCKED: 'Sign-in for this username is locked after too many wrong passwords. Try again in {minutes} minutes or ask your administrator to unlock it.',
  ACCOUNT_DISABLED: 'This account is disabled. Ask your administrator for help.',
  LOGIN_EXPIRED: 'This sign-in has expired or is not valid. Go back to the app and start again.',
  LOGIN_FINISHING: 'This sign-in is being completed in another window or tab. Continue to return to the app.',
  CSRF_INVALID: 'This form has expired. Go back to the app and start again.',
  FORM_INVALID: 'The form could not be read. Go back and try again.',
  FORM_TOO_LARGE: 'The form was too large. Go back and try again.',
  FORM_TYPE: 'The form was sent in a format Keystep does not accept.',
  NOT_FOUND: 'There is nothing at this address.',
  SERVER_ERROR: 'Something went wrong on our side. Try again in a moment.',
  METHOD_NOT_ALLOWED: 'This address does not take that kind of request.',
  TOO_MANY_REQUESTS: 'Too many sign-in requests came from your network. Wait {seconds} seconds, then try again.',
  TEMPORARILY_UNAVAILABLE: 'Keystep cannot reach its database right now. Nothing you entered was lost: try again shortly.',
  STALE_FORM: 'That page was out of date; here is the current step.',
  CODE_SENT: 'We sent a code by text message.',
  CODE_RESENT: 'We sent a new code. Only the newest code works.',
  CODE_MISSING: 'Enter the code from the text message.',
  CODE_INCORRECT: 'That code is not right. {attempts} tries left for this code.',
  CODE_INCORRECT_PLAIN: 'That code is not right.',
  CODE_EXPIRED: 'That code has expired. Ask for a new code.',
  CODE_DEAD: 'That code can no longer be used after too many tries. Ask for a new code.',
  CODE_ALREADY_USED: 'That code was already used.',
  CODE_REJECTED: 'The sign-in code was incorrect.',
  RESEND_TOO_SOON: 'You can ask for a new code in {seconds} seconds.',
  RESEND_LIMIT: 'No more codes can be sent for this sign-in. Use a backup code, or start again later.',
  RESEND_DISABLED: 'New codes cannot be sent. Use a backup code, or start again.',
  SEND_LIMIT: 'Too many codes were sent to this account recently. You can ask for a new code in {minutes} minutes, or use a backup code.',
  SEND_BUSY: 'Too many codes are being sent right now. You can ask for a new code in {minutes} minutes, or use a backup code.',
  SMS_NOT_SENT: 'We could not send the code. Ask for a new code, or use a backup code.',
  RESEND_FAILED: 'We could not send a new code. The code we sent before still works; or ask again, or use a backup code.',
  SMS_DESTINATION_REFUSED: 'Codes cannot be sent to the number on your account. Use a backup code, or ask your administrator to change the number.',
  OTP_LOCKED: 'This account is locked after too many wrong codes. Try again in {minutes} minutes or ask your administrator to unlock it.',
  OTP_LOCKED_PLAIN: 'Codes for this account are locked after too many wrong ones. Try again later or ask your administrator to unlock it.',
  SMS_UNCERTAIN: 'We could not confirm that the code was sent. It may still arrive: wait a little, and if it does not come, ask for a new code or use a backup code.',
  NO_PHONE: 'Your account has no mobile number for the sign-in code. Ask your administrator to add one, or use a backup code.',
  PHONE_MISSING: 'Enter your mobile number.',
  PHONE_INVALID: 'That is not a valid phone number. Include the country code, like +44 7400 123456.',
  PHONE_NOT_MOBILE: 'That number cannot receive text messages. Enter a mobile number.',
  PHONE_COUNTRY_REFUSED: 'Text messages cannot be sent to numbers in that country. Enter another number.',
  PHONE_UNAVAILABLE: 'That number cannot be used. Enter another number.',
  PHONE_CHANGE: 'Enter the number to send the code to.',
  PHONE_SAME: 'That is already your number.',
  PHONE_CHANGED: 'Your number was changed. A message about it went to your old number.',
  BACKUP_CODES_SAVED: 'Your new backup codes are active; the old ones no longer work.',
  SIGNED_OUT_EVERYWHERE: 'You are signed out everywhere. Apps will ask you to sign in again.',
  BACKUP_CODE_MISSING: 'Enter one of your backup codes.',
  BACKUP_CODE_INCORRECT: 'That backup code is not right, or it was already used.',
  BACKUP_CODES_LEFT: 'Backup code accepted. You have {count} unused backup codes left.',
  BACKUP_CODES_NONE_LEFT: 'Backup code accepted. That was your last one: ask your administrator for new backup codes.',
} as const;

export type MessageCode = keyof typeof messages;

/** Messages that report progress rather than a problem. */
export const infoMessages: ReadonlySet<MessageCode> = new Set<MessageCode>(['LOGIN_FINISHING', 'CODE_SENT', 'CODE_RESENT', 'BACKUP_CODES_LEFT', 'BACKUP_CODES_NONE_LEFT', 'PHONE_CHANGE', 'PHONE_CHANGED', 'BACKUP_CODES_SAVED', 'SIGNED_OUT_EVERYWHERE']);

export function messageText(code: MessageCode, params: Record<string, string | number> = {}): string {
  return messages[code].replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? ''));
}
