// What the passkey step and its account page can tell the user.
export const passkeyMessages = {
  PASSKEY_READY: 'Use your passkey when your browser asks for it.',
  PASSKEY_FAILED: 'That passkey did not work for this account. Try again, or use another way to sign in.',
  PASSKEY_MISSING: 'Your browser sent no passkey. Passkeys need JavaScript; you can use another way to sign in.',
  PASSKEY_ADDED: 'Your passkey was added. You can use it to sign in.',
  PASSKEY_REMOVED: 'The passkey was removed. It no longer signs you in.',
  PASSKEY_NONE: 'Your account has no such passkey.',
  PASSKEY_NAME_MISSING: 'Give the passkey a name, so that you can tell it from your others.',
  PASSKEY_NOT_ADDED: 'The passkey was not added. Start again to try once more.',
} as const;

export type PasskeyMessage = keyof typeof passkeyMessages;

export const passkeyInfo: readonly PasskeyMessage[] = ['PASSKEY_READY', 'PASSKEY_ADDED', 'PASSKEY_REMOVED'];
