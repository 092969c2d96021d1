import { z } from 'zod';
import { configSchema } from './schema.ts';

/** How a setting's environment variable is read. */
export type EnvType = 'string' | 'number' | 'boolean' | 'array' | 'json' | 'jsonOrString';

export interface Setting {
  path: string[];
  key: string;
  env: string;
  type: EnvType;
  defaultValue: unknown;
  description: string;
}

// Conventional names for the few settings every platform already sets. Not `HOST`: shells and
// platforms set it to the machine's name, which would open Keystep to the network unasked.
const envAliases: Record<string, string> = {
  env: 'NODE_ENV',
  port: 'PORT',
  databaseUrl: 'DATABASE_URL',
  logLevel: 'LOG_LEVEL',
};

function envName(path: string[]): string {
  const key = path.join('.');
  const alias = envAliases[key];
  if (alias) return alias;
  return 'KEYSTEP_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

type JsonSchema = z.core.JSONSchema.JSONSchema;

function envType(schema: JsonSchema): EnvType {
  if (schema.anyOf) return 'jsonOrString';
  switch (schema.type) {
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return 'array';
    case 'object':
      return 'json';
    default:
      return 'string';
  }
}

// A group (an object without a description of its own) holds settings; anything described is one.
function collect(schema: JsonSchema, path: string[], out: Setting[]): void {
  if (schema.type === 'object' && schema.properties && schema.description === undefined) {
    for (const [name, child] of Object.entries(schema.properties)) {
      if (typeof child === 'object') collect(child, [...path, name], out);
    }
    return;
  }
  out.push({ path, key: path.join('.'), env: envName(path), type: envType(schema), defaultValue: schema.default, description: schema.description ?? '' });
}

/** Every setting of the schema, in schema order. */
export const settings: readonly Setting[] = (() => {
  const out: Setting[] = [];
  // The input side: what a file or a variable holds before transforms and defaults.
  collect(z.toJSONSchema(configSchema, { io: 'input' }), [], out);
  return out;
})();
