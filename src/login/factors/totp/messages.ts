// What the authenticator-app step and its account page can tell the user.
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
