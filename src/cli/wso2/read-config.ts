import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parse as parseToml, TomlError } from 'smol-toml';

/** Input the import cannot read: the file, the line (when there is one) and why. */
export class Wso2InputError extends Error {
  readonly file: string;
  readonly line: number | undefined;
  readonly reason: string;
  constructor(file: string, line: number | undefined, reason: string) {
    super(`${file}${line ? `:${line}` : ''}: ${reason}`);
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

/** One parameter of the SMSOTP authenticator as WSO2 had it: the value as text, and its line. */
export interface Wso2Parameter {
  name: string;
  value: string;
  line: number | undefined;
}

export interface Wso2Config {
  format: 'xml' | 'toml';
  /** `enabled="false"` / `enable = false`: the authenticator was off in WSO2. */
  enabled: boolean;
  parameters: Wso2Parameter[];
}

const lineAt = (text: string, index: number) => (index < 0 ? undefined : text.slice(0, index).split('\n').length);

/** The first line at or after `from` that matches, for pointing at a parameter in the report. */
function findLine(text: string, pattern: RegExp, from = 0): number | undefined {
  const rest = text.slice(from);
  const match = pattern.exec(rest);
  return match ? lineAt(text, from + match.index) : undefined;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type XmlNode = { '@_name'?: string; '@_enabled'?: string; '#text'?: string; [key: string]: unknown };

function findSmsOtp(node: unknown): XmlNode | undefined {
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = findSmsOtp(item);
      if (found) return found;
    }
    return undefined;
  }
  if (!node || typeof node !== 'object') return undefined;
  const record = node as Record<string, unknown>;
  for (const config of (record.AuthenticatorConfig as XmlNode[] | undefined) ?? []) {
    if (config['@_name'] === 'SMSOTP') return config;
  }
  for (const [key, child] of Object.entries(record)) {
    if (key !== 'AuthenticatorConfig' && !key.startsWith('@_')) {
      const found = findSmsOtp(child);
      if (found) return found;
    }
  }
  return undefined;
}

/** WSO2 5.x: `<AuthenticatorConfig name="SMSOTP">` in application-authentication.xml, or that block alone. */
export function readXmlConfig(file: string, text: string): Wso2Config {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Wso2InputError(file, valid.err.line, `not well-formed XML: ${valid.err.msg}`);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    removeNSPrefix: true,
    isArray: (name) => name === 'AuthenticatorConfig' || name === 'Parameter',
  });
  const block = findSmsOtp(parser.parse(text));
  if (!block) throw new Wso2InputError(file, undefined, 'no <AuthenticatorConfig name="SMSOTP"> in this file');
  const start = text.search(/<AuthenticatorConfig\b[^>]*\bname\s*=\s*["']SMSOTP["']/);
  const parameters: Wso2Parameter[] = [];
  for (const p of (block.Parameter as XmlNode[] | undefined) ?? []) {
    const name = p['@_name'];
    const line = name ? findLine(text, new RegExp(`<Parameter\\b[^>]*\\bname\\s*=\\s*["']${escapeRegExp(name)}["']`), Math.max(0, start)) : lineAt(text, start);
    if (!name) throw new Wso2InputError(file, line, 'a <Parameter> without a name attribute');
    const value = p['#text'];
    if (typeof value === 'object') throw new Wso2InputError(file, line, `parameter ${name} holds elements; WSO2 parameters hold text`);
    parameters.push({ name, value: value === undefined ? '' : String(value), line });
  }
  return { format: 'xml', enabled: (block['@_enabled'] ?? 'true').trim().toLowerCase() !== 'false', parameters };
}

/** WSO2 6.x and 7.x: `[authentication.authenticator.sms_otp.parameters]` in deployment.toml. */
export function readTomlConfig(file: string, text: string): Wso2Config {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) throw new Wso2InputError(file, err.line, `not valid TOML: ${err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '')}`);
    throw err;
  }
  const authenticator = (doc.authentication as { authenticator?: { sms_otp?: Record<string, unknown> } } | undefined)?.authenticator?.sms_otp;
  if (!authenticator) throw new Wso2InputError(file, undefined, 'no [authentication.authenticator.sms_otp] table in this file');
  const table = authenticator.parameters ?? {};
  const header = text.search(/^\s*\[\s*authentication\.authenticator\.sms_otp\.parameters\s*\]/m);
  if (typeof table !== 'object' || Array.isArray(table)) throw new Wso2InputError(file, lineAt(text, header), 'authentication.authenticator.sms_otp.parameters must be a table');
  const parameters: Wso2Parameter[] = [];
  for (const [name, raw] of Object.entries(table as Record<string, unknown>)) {
    const line = findLine(text, new RegExp(`^\\s*"?${escapeRegExp(name)}"?\\s*=`, 'm'), Math.max(0, header));
    if (raw !== null && typeof raw === 'object') throw new Wso2InputError(file, line, `parameter ${name} is a table or a list; WSO2 parameters are single values`);
    parameters.push({ name, value: String(raw), line });
  }
  const enable = authenticator.enable ?? authenticator.enabled;
  return { format: 'toml', enabled: enable === undefined || String(enable).toLowerCase() !== 'false', parameters };
}

/** Reads either format, judged by the file's name, else by its first character. */
export function readWso2Config(file: string, text: string): Wso2Config {
  if (/\.toml$/i.test(file)) return readTomlConfig(file, text);
  if (/\.xml$/i.test(file) || text.trimStart().startsWith('<')) return readXmlConfig(file, text);
  return readTomlConfig(file, text);
}
