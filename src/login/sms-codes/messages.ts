// What the steps that send SMS codes (and the account page's number change) can tell the user (ICU
// MessageFormat; the other languages in translations.ts).
export const smsCodeMessages = {
  CODE_SENT: 'We sent a code by text message.',
  CODE_RESENT: 'We sent a new code. Only the newest code works.',
  CODE_MISSING: 'Enter the code from the text message.',
  CODE_INCORRECT: 'That code is not right. {attempts, plural, one {{attempts} try left} other {{attempts} tries left}} for this code.',
  CODE_EXPIRED: 'That code has expired. Ask for a new code.',
  CODE_DEAD: 'That code can no longer be used after too many tries. Ask for a new code.',
  CODE_ALREADY_USED: 'That code was already used.',
  CODE_REJECTED: 'The sign-in code was incorrect.',
  RESEND_TOO_SOON: 'You can ask for a new code in {seconds, plural, one {{seconds} second} other {{seconds} seconds}}.',
  RESEND_LIMIT: 'No more codes can be sent for this sign-in. Use a backup code, or start again later.',
  RESEND_DISABLED: 'New codes cannot be sent. Use a backup code, or start again.',
  SEND_LIMIT: 'No more codes can be sent for now. You can ask for a new code in {minutes, plural, one {{minutes} minute} other {{minutes} minutes}}, or use another way to sign in, such as a backup code.',
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

// The texts of the code and number pages (views/factors/sms-otp/, views/factors/phone-capture/) and
// of the SMS themselves. `SMS_CODE` is sent unless the operator set `smsOtp.message`.
export const smsCodeTexts = {
  // How the account page's recent sign-ins name it.
  'sms.name': 'SMS code',
  'sms.offer': 'Get a code by text message instead',
  'sms.code.lead': '{sent, select, sent {We sent a code by text message to {destination}.} uncertain {We asked for a code to be sent by text message to {destination}, but the SMS service did not confirm it went out.} failed {We could not send a code to {destination}.} refused {Codes cannot be sent by text message to {destination}.} other {No code has been sent yet to {destination}.}}',
  'sms.code.label': 'Code from the text message',
  'sms.code.hint': '{numeric, select, yes {The code has {length} digits.} other {The code has {length} letters and digits.}}',
  'sms.code.resend': 'Send a new code',
  'sms.code.wait': 'You can ask for a new code in {seconds, plural, one {{seconds} second} other {{seconds} seconds}}.',
  'sms.code.ready': 'You can ask for a new code now.',
  'sms.code.change': 'Change the number',
  'sms.capture.lead': 'Your account needs a mobile number for sign-in codes. We will send a code to check it; the number is saved only when you enter that code.',
  'sms.capture.label': 'Mobile number',
  'sms.capture.hint-country': 'Include the country code (like +44), or give a number in {country} without it.',
  'sms.number.hint': 'Include the country code, like +44 7400 123456.',
  'sms.number.send': 'Send a code',
  'sms.account.title': 'Change your number',
  'sms.account.lead': 'We will send a code to the new number. It replaces the old one only when you enter that code, and the old number gets a message about the change.',
  'sms.account.label': 'New mobile number',
  'sms.verify.title': 'Check your new number',
  'sms.verify.lead': 'We sent a code by text message to {destination}.',
  'sms.verify.button': 'Change the number',
  'sms.verify.other': 'Use another number',
  SMS_CODE: 'Your {service} code is {code}. It expires in {minutes, plural, one {{minutes} minute} other {{minutes} minutes}}. Don\'t share it.\n\n@{host} #{code}',
  NOTICE_PHONE_CHANGED: 'Your {service} sign-in number was changed to {number}. If you did not do this, contact your administrator now.',
} as const;
