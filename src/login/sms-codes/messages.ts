// What the steps that send SMS codes (and the account page's number change) can tell the user.
export const smsCodeMessages = {
  CODE_SENT: 'We sent a code by text message.',
  CODE_RESENT: 'We sent a new code. Only the newest code works.',
  CODE_MISSING: 'Enter the code from the text message.',
  CODE_INCORRECT: 'That code is not right. {attempts} tries left for this code.',
  CODE_EXPIRED: 'That code has expired. Ask for a new code.',
  CODE_DEAD: 'That code can no longer be used after too many tries. Ask for a new code.',
  CODE_ALREADY_USED: 'That code was already used.',
  CODE_REJECTED: 'The sign-in code was incorrect.',
  RESEND_TOO_SOON: 'You can ask for a new code in {seconds} seconds.',
  RESEND_LIMIT: 'No more codes can be sent for this sign-in. Use a backup code, or start again later.',
  RESEND_DISABLED: 'New codes cannot be sent. Use a backup code, or start again.',
  SEND_LIMIT: 'No more codes can be sent for now. You can ask for a new code in {minutes} minutes, or use another way to sign in, such as a backup code.',
  SMS_RANGE_PAUSED: 'Codes cannot be sent to numbers like yours for now. Use another way to sign in, such as a backup code, your authenticator app or a passkey.',
  SMS_NOT_SENT: 'We could not send the code. Ask for a new code, or use a backup code.',
  RESEND_FAILED: 'We could not send a new code. The code we sent before still works; or ask again, or use a backup code.',
  SMS_DESTINATION_REFUSED: 'Codes cannot be sent to the number on your account. Use a backup code, or ask your administrator to change the number.',
  SMS_NOT_DELIVERED: 'The text message with your code was not delivered. Ask for a new code (it goes by another route where there is one), or use a backup code.',
  SMS_UNCERTAIN: 'We could not confirm that the code was sent. It may still arrive: wait a little, and if it does not come, ask for a new code or use a backup code.',
  PHONE_MISSING: 'Enter your mobile number.',
  PHONE_INVALID: 'That is not a valid phone number. Include the country code, like +44 7400 123456.',
  PHONE_NOT_MOBILE: 'That number cannot receive text messages. Enter a mobile number.',
  PHONE_COUNTRY_REFUSED: 'Text messages cannot be sent to numbers in that country. Enter another number.',
  PHONE_UNAVAILABLE: 'That number cannot be used. Enter another number.',
  PHONE_CHANGE: 'Enter the number to send the code to.',
  PHONE_SAME: 'That is already your number.',
  PHONE_CHANGED: 'Your number was changed. A message about it went to your old number.',
} as const;

export type SmsCodeMessage = keyof typeof smsCodeMessages;

export const smsCodeInfo: readonly SmsCodeMessage[] = ['CODE_SENT', 'CODE_RESENT', 'PHONE_CHANGE', 'PHONE_CHANGED'];
