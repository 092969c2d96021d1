// The texts of the chain and the pages around it; each factor keeps its own (see factor.ts), and
// the catalogue puts them together. Message codes travel between requests; text never does.
export const messages = {
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
  CODE_INCORRECT_PLAIN: 'That code is not right.',
  OTP_LOCKED: 'This account is locked after too many wrong codes. Try again in {minutes} minutes or ask your administrator to unlock it.',
  OTP_LOCKED_PLAIN: 'Codes for this account are locked after too many wrong ones. Try again later or ask your administrator to unlock it.',
  SIGNED_OUT_EVERYWHERE: 'You are signed out everywhere. Apps will ask you to sign in again.',
  ACCOUNT_BUSY: 'Another change to your account is under way. Try again in a moment.',
  LAST_SECOND_FACTOR: 'This is the last way your account has to prove it is you after the password. Add another (an authenticator app, a passkey or a number) before removing it.',
  NO_PHISHING_RESISTANT_FACTOR: 'This app asks for a passkey, and your account has none yet. Sign in to your account page as usual, add a passkey there, then sign in to the app again.',
  NO_SECOND_FACTOR: 'Your account has no mobile number for the sign-in code. Ask your administrator to add one, or use a backup code.',
} as const;

export type MessageCode = keyof typeof messages;

const info: ReadonlySet<string> = new Set<MessageCode>(['LOGIN_FINISHING', 'SIGNED_OUT_EVERYWHERE']);

function fill(text: string, params: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? ''));
}

export function messageText(code: MessageCode, params: Record<string, string | number> = {}): string {
  return fill(messages[code], params);
}

/** Every text a page can show: the chain's and each factor's. */
export function messageCatalogue(parts: readonly { messages: Readonly<Record<string, string>>; info?: readonly string[] }[]) {
  const texts: Record<string, string> = Object.assign({}, messages, ...parts.map((p) => p.messages));
  const infos = new Set([...info, ...parts.flatMap((p) => p.info ?? [])]);
  return {
    has: (code: string) => Object.hasOwn(texts, code),
    // Own keys only: a stored code such as `constructor` must not reach an inherited property.
    text: (code: string, params: Record<string, string | number> = {}) => fill(Object.hasOwn(texts, code) ? texts[code]! : messages.SERVER_ERROR, params),
    /** Whether the message reports progress ('info') or a problem ('error'). */
    kind: (code: string): 'info' | 'error' => (infos.has(code) ? 'info' : 'error'),
  };
}

export type MessageCatalogue = ReturnType<typeof messageCatalogue>;
