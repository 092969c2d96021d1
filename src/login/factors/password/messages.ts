// What the password step can tell the user (ICU MessageFormat; the other languages in translations.ts).
export const passwordMessages = {
  CREDENTIALS_INCORRECT: 'The username or password is incorrect.',
  CREDENTIALS_MISSING: 'Enter your username and password.',
  PASSWORD_THROTTLED: 'Too many wrong passwords for this username. Wait {seconds, plural, one {{seconds} second} other {{seconds} seconds}}, then try again.',
  ACCOUNT_LOCKED: 'Sign-in for this username is locked after too many wrong passwords. Try again in {minutes, plural, one {{minutes} minute} other {{minutes} minutes}} or ask your administrator to unlock it.',
  ACCOUNT_DISABLED: 'This account is disabled. Ask your administrator for help.',
} as const;

export type PasswordMessage = keyof typeof passwordMessages;

// The texts of its page (views/factors/password/).
export const passwordTexts = {
  // How the account page's recent sign-ins name it.
  'password.name': 'password',
  'password.lead': 'Sign in to continue to {client}.',
  'password.username': 'Username',
  'password.password': 'Password',
} as const;
