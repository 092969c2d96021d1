// What the authenticator-app step and its account page can tell the user (ICU MessageFormat; the
// other languages in translations.ts).
export const totpMessages = {
  TOTP_MISSING: 'Enter the 6-digit code your authenticator app shows.',
  TOTP_INCORRECT: 'That code is not right, or it was already used. Wait for the next code in your app.',
  TOTP_UNREADABLE: 'Your authenticator app cannot be checked right now. Use another way to sign in, and tell your administrator.',
  TOTP_NOT_SET_UP: 'Your account no longer has an authenticator app. Use another way to sign in.',
  TOTP_ADDED: 'Your authenticator app is set up. Its code is asked for when you sign in.',
  TOTP_REMOVED: 'Your authenticator app was removed. Its codes no longer work.',
  TOTP_NONE: 'Your account has no authenticator app to remove.',
  TOTP_SETUP_GONE: 'That set-up has expired. Start again to get a new secret.',
} as const;

export type TotpMessage = keyof typeof totpMessages;

export const totpInfo: readonly TotpMessage[] = ['TOTP_ADDED', 'TOTP_REMOVED'];

// The texts of its pages (views/factors/totp/) and of the SMS that tells the account's number of a change.
export const totpTexts = {
  // How the account page's recent sign-ins name it.
  'totp.name': 'authenticator app',
  'totp.offer': 'Use your authenticator app instead',
  'totp.lead': 'Enter the code your authenticator app shows for this account.',
  'totp.label': 'Code from your authenticator app',
  'totp.hint': 'The code has 6 digits and changes every 30 seconds.',
  'totp.start.title': 'Set up an authenticator app',
  'totp.start.lead': 'An authenticator app on your phone (any app for one-time codes) shows a new sign-in code every 30 seconds, with no text message.',
  'totp.start.replaces': 'Setting up an app replaces the one you have now, once the new one is confirmed.',
  'totp.start.button': 'Set up an authenticator app',
  'totp.add.lead': 'Scan this code with your authenticator app, then enter the code the app shows.',
  'totp.add.qr': 'QR code for your authenticator app',
  'totp.add.secret': 'Or type this secret into the app:',
  'totp.add.link': 'The set-up link',
  'totp.add.confirm': 'Confirm',
  'totp.remove.title': 'Remove your authenticator app',
  'totp.remove.lead': 'Remove your authenticator app? Its codes stop working at once; you sign in with your other second factors.',
  'totp.remove.button': 'Remove the authenticator app',
  NOTICE_TOTP_ADDED: '{service}: An authenticator app was added to your account. If you did not do this, contact your administrator now.',
  NOTICE_TOTP_REMOVED: '{service}: The authenticator app was removed from your account. If you did not do this, contact your administrator now.',
} as const;
