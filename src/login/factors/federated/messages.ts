// What the upstream sign-in can tell the user. `{provider}` is the provider's display name.
export const federatedMessages = {
  FEDERATION_UNREACHABLE: '{provider} did not answer. Try again, or go back to the app.',
  FEDERATION_REFUSED: 'The sign-in at {provider} did not complete. Try again, or go back to the app.',
  FEDERATION_BAD_RESPONSE: 'The answer from {provider} could not be trusted, so you are not signed in. Try again.',
  FEDERATION_CODE_REFUSED: 'The sign-in at {provider} could not be finished (it may have been used already). Try again.',
  FEDERATION_BAD_ID_TOKEN: 'The identity {provider} sent could not be checked, so you are not signed in. Try again.',
  FEDERATION_STALE: 'That answer does not belong to this sign-in (an old or copied link). Start again here.',
  FEDERATION_NOT_LINKED: 'This sign-in is not linked to an account. Ask your administrator to link your {provider} account, or go back to the app.',
  FEDERATION_NAME_TAKEN: 'An account for your {provider} sign-in could not be made: its username is taken. Ask your administrator for help.',
  FEDERATION_ACCOUNT_DISABLED: 'This account is disabled. Ask your administrator for help.',
  FEDERATION_LINKED: 'Linked: you can now sign in through that provider.',
  FEDERATION_LINK_TAKEN: 'That account at the provider is linked to another account already. Nothing was changed.',
  FEDERATION_LINK_FAILED: 'The provider did not confirm who you are, so nothing was linked. Try again.',
} as const;

// How recent sign-ins name it, and the button another page offers it with.
export const federatedTexts = {
  'federated.name': 'another provider',
  'federated.offer': 'Continue with {provider}',
} as const;

export type FederatedMessage = keyof typeof federatedMessages;

/** Its messages that report progress rather than a problem. */
export const federatedInfo: readonly FederatedMessage[] = ['FEDERATION_LINKED'];
