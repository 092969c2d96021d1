// What the password step can tell the user.
export const passwordMessages = {
  CREDENTIALS_INCORRECT: 'The username or password is incorrect.',
  CREDENTIALS_MISSING: 'Enter your username and password.',
  PASSWORD_THROTTLED: 'Too many wrong passwords for this username. Wait {seconds} seconds, then try again.',
  ACCOUNT_LOCKED: 'Sign-in for this username is locked after too many wrong passwords. Try again in {minutes} minutes or ask your administrator to unlock it.',
  ACCOUNT_DISABLED: 'This account is disabled. Ask your administrator for help.',
} as const;

export type PasswordMessage = keyof typeof passwordMessages;
