import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, smsGatewayListItemSchema, smsGatewaySchema, type Config } from './schema.ts';
import { settings, type Setting } from './settings.ts';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

function fromEnv(setting: Setting, raw: string): unknown {
  switch (setting.type) {
    case 'number': {
      const n = Number(raw);
      return raw.trim() === '' || Number.isNaN(n) ? raw : n;
    }
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(raw)) return true;
      if (/^(false|0|no|off)$/i.test(raw)) return false;
      return raw;
    case 'array':
      if (raw.trim().startsWith('[')) return parseJson(raw);
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    case 'json':
      return parseJson(raw);
    case 'jsonOrString':
      return /^\s*[[{]/.test(raw) ? parseJson(raw) : raw;
    default:
      return raw;
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Sets a nested setting (`['sms', 'gateway', 'url']`), making the objects on the way. */
export function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function readFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`KEYSTEP_CONFIG: cannot read ${file}: ${(err as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError([`KEYSTEP_CONFIG: ${file} is not valid YAML or JSON: ${(err as Error).message}`]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([`KEYSTEP_CONFIG: ${file} must hold a mapping of settings`]);
  }
  return parsed as Record<string, unknown>;
}

function label(path: PropertyKey[]): string {
  const key = path.map(String).join('.');
  const setting = settings.find((s) => key === s.key || key.startsWith(`${s.key}.`));
  return setting ? `${key} (${setting.env})` : key || '(root)';
}

/** Development defaults that production refuses, judged on the raw settings so they join the other problems. */
function productionProblems(input: Record<string, unknown>): string[] {
  if (input.env !== 'production') return [];
  const problems: string[] = [];
  if (input.demo === true) problems.push('demo (KEYSTEP_DEMO): demo data is refused in production');
  const sms = input.sms as { sender?: unknown } | undefined;
  if ((sms?.sender ?? 'console') === 'console') problems.push('sms.sender (KEYSTEP_SMS_SENDER): the console sender is for development; set it to http and configure sms.gateway');
  const countries = (sms as { allowedCountries?: unknown } | undefined)?.allowedCountries;
  if (!Array.isArray(countries) || countries.length === 0) problems.push('sms.allowedCountries (KEYSTEP_SMS_ALLOWED_COUNTRIES): must list the countries SMS may go to in production (`*` allows all)');
  if (input.issuer === undefined) problems.push('issuer (KEYSTEP_ISSUER): must be set in production');
  else if (typeof input.issuer === 'string' && !input.issuer.startsWith('https://')) problems.push('issuer (KEYSTEP_ISSUER): must use https in production');
  return problems;
}

/** Checks of settings that only other parts of Keystep can judge, run with the schema's own. */
export interface ConfigChecks {
  /** Problems of the gateway's request template, when `sms.sender` is `http`. */
  smsGateway?: (gateway: Config['sms']['gateway']) => string[];
  /** Problems of `sms.gateways` (each template, names, receipts), when `sms.sender` is `http`. */
  smsGateways?: (gateways: Config['sms']['gateways']) => string[];
  /** Problems of the operator's translation files and the default language. */
  translations?: (translations: Config['translations']) => string[];
}

// The gateway group is judged on its own, so that a bad template is listed even when some other
// setting is wrong too, instead of after that one is fixed.
function checkedProblems(input: Record<string, unknown>, checks: ConfigChecks): string[] {
  return [...gatewayProblems(input, checks), ...translationProblems(input, checks)];
}

function translationProblems(input: Record<string, unknown>, checks: ConfigChecks): string[] {
  const parsed = configSchema.shape.translations.safeParse(input.translations);
  if (!checks.translations || !parsed.success) return [];
  return checks.translations(parsed.data).map((p) => `translations (KEYSTEP_TRANSLATIONS_DIR, KEYSTEP_TRANSLATIONS_DEFAULT_LANGUAGE): ${p}`);
}

function gatewayProblems(input: Record<string, unknown>, checks: ConfigChecks): string[] {
  const sms = input.sms;
  if (!checks.smsGateway || typeof sms !== 'object' || sms === null) return [];
  const { sender, gateway, gateways } = sms as { sender?: unknown; gateway?: unknown; gateways?: unknown };
  if (sender !== 'http') return [];
  if (Array.isArray(gateways) && gateways.length > 0) {
    const list = z.array(smsGatewayListItemSchema).safeParse(gateways);
    return list.success ? checks.smsGateways?.(list.data) ?? [] : [];
  }
  const parsed = smsGatewaySchema.safeParse(gateway);
  return parsed.success ? checks.smsGateway(parsed.data) : [];
}

/**
 * Builds the configuration from the file named by KEYSTEP_CONFIG and the environment (which wins),
 * listing every problem at once, those `checks` find included.
 */
export function loadConfig(env: Env = process.env, overrides: Record<string, unknown> = {}, checks: ConfigChecks = {}): Config {
  const input: Record<string, unknown> = env.KEYSTEP_CONFIG ? readFile(env.KEYSTEP_CONFIG) : {};
  for (const setting of settings) {
    const raw = env[setting.env];
    if (raw !== undefined && raw !== '') setPath(input, setting.path, fromEnv(setting, raw));
  }
  for (const [key, value] of Object.entries(overrides)) setPath(input, key.split('.'), value);

  const result = configSchema.safeParse(input);
  const problems = productionProblems(input);
  const checked = checkedProblems(input, checks);
  if (!result.success) {
    // Unknown keys first, as a typo there often explains the other problems.
    const issues = result.error.issues;
    const unknown = issues.flatMap((issue) => issue.code === 'unrecognized_keys' ? issue.keys.map((k) => `${[...issue.path, k].join('.')}: unknown setting`) : []);
    const invalid = issues.flatMap((issue) => issue.code === 'unrecognized_keys' ? [] : [`${label(issue.path)}: ${issue.message}`]);
    throw new ConfigError([...unknown, ...problems, ...invalid, ...checked]);
  }
  const parsed = result.data;
  const config: Config = {
    ...parsed,
    issuer: (parsed.issuer ?? `http://localhost:${parsed.port}`).replace(/\/+$/, ''),
    demo: parsed.demo ?? parsed.env !== 'production',
  };
  if (problems.length || checked.length) throw new ConfigError([...problems, ...checked]);
  return config;
}
