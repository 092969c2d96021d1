// What the passkey step and its account page can tell the user (ICU MessageFormat; the other
// languages in translations.ts).
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

// The texts of its pages (views/factors/passkey/) and of the SMS that tells the account's number of a change.
export const passkeyTexts = {
  // How the account page's recent sign-ins name it.
  'passkey.name': 'passkey',
  'passkey.offer': 'Use a passkey instead',
  'passkey.start.lead': 'Sign in with a passkey you added to your account: your phone, computer or security key confirms it is you.',
  'passkey.use': 'Use your passkey',
  'passkey.not-used': 'The passkey was not used. Try again, or choose another way.',
  'passkey.sign-in.lead': 'Use your passkey when your browser asks for it.',
  'passkey.sign-in.noscript': 'Passkeys need JavaScript in this browser. Choose another way to sign in below.',
  'passkey.list.title': 'Your passkeys',
  'passkey.list.lead': 'A passkey signs you in without a code: your phone, computer or security key confirms it is you, and it works only on this site.',
  'passkey.list.item': '— added {addedAt} UTC; {lastUsedAt, select, none {not used to sign in yet} other {last used {lastUsedAt} UTC}}{synced, select, yes {; synced} other {}}.',
  'passkey.list.remove': 'Remove',
  'passkey.list.remove-label': 'Remove the passkey {name}',
  'passkey.list.none': 'No passkeys yet.',
  'passkey.list.add': 'Add a passkey',
  'passkey.list.name': 'A name for it (for example the device)',
  'passkey.add.title': 'Add a passkey',
  'passkey.add.lead': 'Create the passkey “{name}” now: your browser asks your phone, computer or security key for it.',
  'passkey.add.noscript': 'Adding a passkey needs JavaScript in this browser.',
  'passkey.add.create': 'Create the passkey',
  NOTICE_PASSKEY_ADDED: '{service}: A passkey was added to your account. If you did not do this, contact your administrator now.',
  NOTICE_PASSKEY_REMOVED: '{service}: A passkey was removed from your account. If you did not do this, contact your administrator now.',
} as const;
