// What the backup-code step and its account page can tell the user.
export const backupCodeMessages = {
  BACKUP_CODES_SAVED: 'Your new backup codes are active; the old ones no longer work.',
  BACKUP_CODE_MISSING: 'Enter one of your backup codes.',
  BACKUP_CODE_INCORRECT: 'That backup code is not right, or it was already used.',
  BACKUP_CODES_LEFT: 'Backup code accepted. You have {count} unused backup codes left.',
  BACKUP_CODES_NONE_LEFT: 'Backup code accepted. That was your last one: ask your administrator for new backup codes.',
  BACKUP_CODES_GONE: 'New backup codes are shown only once, and that page was already shown. If you did not save them, make a new set.',
} as const;

export type BackupCodeMessage = keyof typeof backupCodeMessages;

export const backupCodeInfo: readonly BackupCodeMessage[] = ['BACKUP_CODES_LEFT', 'BACKUP_CODES_NONE_LEFT', 'BACKUP_CODES_SAVED'];
