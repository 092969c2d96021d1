import { parse as parseCsv } from 'csv-parse/sync';
import { canonicalBackupCode } from '../login/factors/backup-code/codes.ts';
import { fromWso2Pbkdf2, hashFormat, importedHashProblem, type HashFormat } from '../login/legacy-hashes.ts';
import { accountName } from '../shared/account-name.ts';
import { normalizeMobile } from '../shared/phone.ts';
import { destinationAllowed } from '../sms/destination-policy.ts';
import { CliError } from './context.ts';
import { newAccountName } from './user-commands.ts';

/** One user to import, checked: nothing here is written until every row of the file is good. */
export interface ImportedUser {
  row: number;
  line: number;
  domain: string;
  username: string;
  passwordHash: string;
  format: HashFormat;
  phone: string | null;
  /** Canonical backup codes, hashed by the command before they are stored. */
  backupCodes: string[];
}

export interface RowProblem {
  row: number;
  line: number;
  reason: string;
}

export interface ParsedUsers {
  users: ImportedUser[];
  problems: RowProblem[];
  /** Fields the import does not use (a WSO2 export carries many claims). */
  ignored: string[];
}

const MOBILE_CLAIM = 'http://wso2.org/claims/mobile';
const BACKUP_CLAIM = 'http://wso2.org/claims/otpbackupcodes';
const FIELDS = new Set(['username', 'domain', 'phone', 'password_hash', 'password_salt', 'pbkdf2_iterations', 'backup_codes', MOBILE_CLAIM, BACKUP_CLAIM, 'otpbackupcodes', 'mobile']);

type Record_ = Record<string, unknown>;

/** Rows of a CSV file with a header line, or of JSON lines (one object a line), each with its line. */
function rowsOf(file: string, text: string): { rows: { line: number; record: Record_ }[]; problems: RowProblem[] } {
  const rows: { line: number; record: Record_ }[] = [];
  const problems: RowProblem[] = [];
  if (/\.jsonl$/i.test(file) || (!/\.csv$/i.test(file) && text.trimStart().startsWith('{'))) {
    text.split('\n').forEach((raw, i) => {
      if (!raw.trim()) return;
      const row = rows.length + problems.length + 1;
      try {
        const record: unknown = JSON.parse(raw);
        if (!record || typeof record !== 'object' || Array.isArray(record)) throw new Error('not an object');
        // WSO2's claims may come in a `claims` object of their own.
        const { claims, ...rest } = record as Record_;
        rows.push({ line: i + 1, record: { ...(claims && typeof claims === 'object' ? claims as Record_ : {}), ...rest } });
      } catch (err) {
        problems.push({ row, line: i + 1, reason: `not a JSON object: ${(err as Error).message}` });
      }
    });
    return { rows, problems };
  }
  try {
    const records = parseCsv(text, { columns: (header: string[]) => header.map((h) => h.trim()), bom: true, skip_empty_lines: true, info: true, trim: true }) as { record: Record_; info: { lines: number } }[];
    for (const { record, info } of records) rows.push({ line: info.lines, record });
  } catch (err) {
    const e = err as { lines?: number; message: string };
    problems.push({ row: 0, line: e.lines ?? 1, reason: `not valid CSV: ${e.message}` });
  }
  return { rows, problems };
}

const text = (value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const s = String(value).trim();
  return s === '' ? undefined : s;
};

/** Reads and checks every row; a file with any problem imports nothing. */
export function parseUsers(file: string, input: string, sms: { defaultCountry?: string | undefined; allowedCountries: readonly string[] }): ParsedUsers {
  const { rows, problems } = rowsOf(file, input);
  const users: ImportedUser[] = [];
  const ignored = new Set<string>();
  const seen = new Map<string, number>();
  rows.forEach(({ line, record }, index) => {
    const row = index + 1;
    const bad = (reason: string) => problems.push({ row, line, reason });
    for (const key of Object.keys(record)) if (!FIELDS.has(key)) ignored.add(key);
    for (const [key, value] of Object.entries(record)) {
      if (FIELDS.has(key) && value !== null && typeof value === 'object' && !(Array.isArray(value) && /backup/.test(key))) return void bad(`${key} must be a single value`);
    }

    const givenName = text(record.username);
    const domainField = text(record.domain);
    if (!givenName) return void bad('username is missing');
    // WSO2 names users of a secondary user store DOMAIN/username; a domain column says the same.
    if (domainField && givenName.includes('/')) return void bad('give the domain in the domain field or as domain/username, not both');
    let name: { domain: string; username: string };
    try {
      name = newAccountName(domainField ? `${domainField}/${givenName}` : givenName);
    } catch (err) {
      if (err instanceof CliError) return void bad(`username ${JSON.stringify(givenName)}: ${err.message}`);
      throw err;
    }
    const { domain, username } = name;
    const key = `${domain}/${username.toLowerCase()}`;
    const shown = accountName(name);
    if (seen.has(key)) return void bad(`username ${shown} is also in row ${seen.get(key)} (usernames are case-insensitive)`);
    seen.set(key, row);

    const given = text(record.password_hash);
    if (!given) return void bad('password_hash is missing');
    const salt = text(record.password_salt);
    let passwordHash = given;
    if (salt) {
      const iterationsText = text(record.pbkdf2_iterations) ?? '10000';
      if (!/^\d{1,9}$/.test(iterationsText)) return void bad('pbkdf2_iterations must be a whole number');
      const converted = fromWso2Pbkdf2(given, salt, Number(iterationsText));
      if (!converted) return void bad('password_hash: with password_salt, WSO2\'s PBKDF2 hash in base64 is expected');
      passwordHash = converted;
    }
    const hashProblem = importedHashProblem(passwordHash);
    if (hashProblem) return void bad(`password_hash: ${hashProblem}`);

    const phoneText = text(record.phone) ?? text(record[MOBILE_CLAIM]) ?? text(record.mobile);
    let phone: string | null = null;
    if (phoneText) {
      const result = normalizeMobile(phoneText, sms.defaultCountry);
      if (!result.ok) return void bad(result.problem === 'NOT_MOBILE' ? 'phone: not a mobile number that can receive SMS' : 'phone: not a valid phone number (E.164, e.g. +447400123456, or national with sms.defaultCountry)');
      if (!destinationAllowed(result.e164, sms.allowedCountries)) return void bad('phone: SMS to this country are not allowed (sms.allowedCountries)');
      phone = result.e164;
    }

    const codesValue = record.backup_codes ?? record[BACKUP_CLAIM] ?? record.otpbackupcodes;
    const codeList = Array.isArray(codesValue) ? codesValue.map(String) : (text(codesValue)?.split(/[,\s]+/) ?? []);
    const backupCodes: string[] = [];
    for (const [i, raw] of codeList.filter(Boolean).entries()) {
      const code = canonicalBackupCode(raw);
      if (!code) return void bad(`backup code ${i + 1} is not one Keystep can take: 6 to 32 digits, or Keystep's own form`);
      backupCodes.push(code);
    }
    if (new Set(backupCodes).size !== backupCodes.length) return void bad('a backup code is given twice');
    users.push({ row, line, domain, username, passwordHash, format: hashFormat(passwordHash)!, phone, backupCodes });
  });
  return { users, problems, ignored: [...ignored] };
}
