import { stringify } from 'yaml';
import { configSchema } from '../../config/schema.ts';
import { settings as allSettings } from '../../config/settings.ts';
import { looksSecret } from '../../sms/gateway-settings.ts';
import { gatewayProblems } from '../../sms-wiring.ts';
import { mapParameters, type ParameterLine } from './parameters.ts';
import { readWso2Config, type Wso2Config } from './read-config.ts';
import { mapProvider, readProviderFile, type Ask, type ProviderMapping } from './sms-provider.ts';
import { setPath } from '../../config/load.ts';

export interface ImportInput {
  config: { file: string; text: string };
  provider?: { file: string; text: string };
}

export type ImportResult =
  | { ok: true; yaml: string; report: string; asks: Ask[]; secretsInFile: boolean }
  | { ok: false; problems: string[] };

const envOf = (key: string) => allSettings.find((s) => s.key === key)?.env ?? key;

// Stand-ins for the settings the report asks for, so that the request template is judged now.
const STAND_IN: Record<string, unknown> = {
  accountSid: 'AC00000000000000000000000000000000', authToken: 'stand-in-token', from: '+15005550006',
  messagingServiceSid: 'MG00000000000000000000000000000000', basicAuth: { username: 'stand-in', password: 'stand-in' },
};

/**
 * A WSO2 SMSOTP configuration (and its SMS provider) as Keystep's configuration: the YAML to write,
 * checked against Keystep's own schema and gateway rules, and the report of what became of each
 * parameter. Pure: the command reads and writes the files.
 */
export function importWso2(input: ImportInput): ImportResult {
  const wso2: Wso2Config = readWso2Config(input.config.file, input.config.text);
  const mapped = mapParameters(wso2.parameters);
  const provider: ProviderMapping | undefined = input.provider
    ? mapProvider(input.provider.file, readProviderFile(input.provider.file, input.provider.text))
    : undefined;
  if (mapped.problems.length) return { ok: false, problems: mapped.problems.map((p) => `${input.config.file}${p.line ? `:${p.line}` : ''}: ${p.reason}`) };

  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(mapped.settings)) setPath(config, key.split('.'), value);
  if (provider) setPath(config, ['sms'], { sender: 'http', gateway: provider.gateway });

  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => {
        const key = issue.path.join('.');
        const source = mapped.sources[key];
        if (source) return `${input.config.file}${source.line ? `:${source.line}` : ''}: ${source.name}=${source.value} cannot become ${key}: ${issue.message}`;
        return `${input.provider?.file ?? input.config.file}: ${key}: ${issue.message}`;
      }),
    };
  }
  if (provider) {
    const standIns = Object.fromEntries(provider.asks.map((a) => {
      const name = a.setting.slice('sms.gateway.'.length);
      return [name, STAND_IN[name]];
    }));
    const problems = gatewayProblems(parsed.data.sms.gateway && { ...parsed.data.sms.gateway, ...standIns });
    if (problems.length) return { ok: false, problems: problems.map((p) => `${input.provider!.file}: ${p}`) };
  }

  const header = `# Keystep configuration imported from WSO2 ${input.config.file}${input.provider ? ` and ${input.provider.file}` : ''} by \`keystep import wso2\`.\n`
    + (provider?.asks.length ? `# Still to give (see the import's report): ${provider.asks.map((a) => a.env).join(', ')}.\n` : '');
  const gateway = provider?.gateway ?? {};
  const secretsInFile = 'authToken' in gateway || 'basicAuth' in gateway
    || Object.keys((gateway.headers ?? {}) as Record<string, string>).some(looksSecret);
  return {
    ok: true,
    yaml: header + stringify(config, { lineWidth: 0 }),
    report: report(input, wso2, mapped.lines, mapped.idpFlags, provider, secretsInFile),
    asks: provider?.asks ?? [],
    secretsInFile,
  };
}

function report(input: ImportInput, wso2: Wso2Config, lines: ParameterLine[], idpFlags: string[], provider: ProviderMapping | undefined, secretsInFile: boolean): string {
  const out: string[] = [];
  out.push(`WSO2 SMSOTP authenticator (${input.config.file}, ${wso2.format === 'xml' ? '5.x XML' : '6.x/7.x TOML'}${wso2.enabled ? '' : ', disabled there'})${input.provider ? ` and SMS provider (${input.provider.file})` : ''}:`);
  out.push('');
  // Long values (the WSO2 page URLs) put what they became on a line of their own.
  const row = (left: string, arrow: string, right: string) => (left.length <= 40 ? `  ${left.padEnd(40)} ${arrow} ${right}` : `  ${left}\n  ${' '.repeat(40)} ${arrow} ${right}`);
  for (const l of lines.filter((x) => x.kind !== 'federation')) out.push(row(`${l.parameter}=${l.value}`, l.kind === 'set' ? '->' : '  ', l.keystep));
  const hide = (text: string) => (provider?.secrets ?? []).filter((s) => s.length >= 4).reduce((t, s) => t.split(s).join('[redacted]'), text);
  if (provider) for (const l of provider.lines) out.push(row(`${l.field}: ${hide(l.wso2)}`, '->', hide(l.keystep)));
  const notes = lines.filter((l) => l.note && l.kind !== 'federation');
  if (notes.length) {
    out.push('', 'Where Keystep differs (its default is safer, or it behaves otherwise):');
    for (const l of notes) out.push(`  ${l.parameter}=${l.value}: ${l.note}`);
  }
  const none = lines.filter((l) => l.kind === 'none');
  if (none.length) out.push('', `No setting of their own: ${none.map((l) => l.parameter).join(', ')} (see above).`);
  const fed = lines.filter((l) => l.kind === 'federation');
  if (fed.length) {
    out.push('', 'Federated first steps: not global settings in Keystep but set per upstream provider:');
    for (const l of fed) out.push(`  ${l.parameter}=${l.value}: ${l.keystep}${l.note ? ` (${l.note})` : ''}`);
    out.push(`  keystep idp add <name> --issuer <url> --client-id <id> --client-secret-stdin${idpFlags.length ? ` ${idpFlags.join(' ')}` : ''}`);
  }
  if (provider?.asks.length) {
    out.push('', 'Settings to give before Keystep starts (the WSO2 placeholders they stand for):');
    for (const a of provider.asks) out.push(`  ${a.setting} (${a.env}): {${a.placeholder}}${a.secret ? ' (a secret: give it in the environment, not the file)' : ''}`);
  }
  if (secretsInFile) out.push('', `The configuration holds a secret of the SMS provider: keep the file private, or move it to ${envOf('sms.gateway.authToken')} / ${envOf('sms.gateway.basicAuth')}.`);
  return `${out.join('\n')}\n`;
}
