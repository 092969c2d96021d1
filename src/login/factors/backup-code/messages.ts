// What the backup-code step and its account page can tell the user (ICU MessageFormat; the other
// languages in translations.ts).
export const backupCodeMessages = {
  BACKUP_CODES_SAVED: 'Your new backup codes are active; the old ones no longer work.',
  BACKUP_CODE_MISSING: 'Enter one of your backup codes.',
  BACKUP_CODE_INCORRECT: 'That backup code is not right, or it was already used.',
  BACKUP_CODES_LEFT: 'Backup code accepted. You have {count, plural, one {{count} unused backup code} other {{count} unused backup codes}} left.',
  BACKUP_CODES_NONE_LEFT: 'Backup code accepted. That was your last one: ask your administrator for new backup codes.',
  BACKUP_CODES_GONE: 'New backup codes are shown only once, and that page was already shown. If you did not save them, make a new set.',
} as const;

export type BackupCodeMessage = keyof typeof backupCodeMessages;

export const backupCodeInfo: readonly BackupCodeMessage[] = ['BACKUP_CODES_LEFT', 'BACKUP_CODES_NONE_LEFT', 'BACKUP_CODES_SAVED'];

// The texts of its pages (views/factors/backup-code/).
export const backupCodeTexts = {
  // How the account page's recent sign-ins name it.
  'backup-code.name': 'backup code',
  'backup-code.offer': 'Use a backup code instead',
  'backup-code.lead': 'Enter one of the backup codes you saved. Each code works once.',
  'backup-code.label': 'Backup code',
  'backup-code.hint': 'Like ABCDE-FGHJK. Dashes and spaces do not matter.',
  'backup-code.new.title': 'New backup codes',
  'backup-code.new.lead': 'New backup codes replace all your current ones: the old codes stop working at once.',
  'backup-code.new.make': 'Make new backup codes',
  'backup-code.shown.title': 'Your new backup codes',
  'backup-code.shown.lead': 'Save these codes somewhere safe. Each works once, instead of a text message code. They are shown only now.',
  'backup-code.shown.saved': 'I have saved them',
} as const;
