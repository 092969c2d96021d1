import type { z } from 'zod';
import { configSchema } from './schema.ts';

export interface Setting {
  path: string[];
  key: string;
  env: string;
  type: string;
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

type AnySchema = z.ZodType & { _zod: { def: { type: string; innerType?: AnySchema; defaultValue?: unknown } } };

function unwrap(schema: AnySchema): { base: AnySchema; defaultValue: unknown } {
  let current = schema;
  let defaultValue: unknown;
  for (;;) {
    const def = current._zod.def;
    if ((def.type === 'default' || def.type === 'prefault') && def.innerType) {
      defaultValue ??= def.defaultValue;
      current = def.innerType;
    } else if ((def.type === 'optional' || def.type === 'nullable') && def.innerType) {
      current = def.innerType;
    } else {
      return { base: current, defaultValue };
    }
  }
}

function collect(schema: AnySchema, path: string[], out: Setting[]): void {
  const { base, defaultValue } = unwrap(schema);
  const description = schema.description ?? base.description;
  if (base._zod.def.type === 'object' && description === undefined) {
    const shape = (base as unknown as z.ZodObject).shape as Record<string, AnySchema>;
    for (const [name, child] of Object.entries(shape)) collect(child, [...path, name], out);
    return;
  }
  out.push({
    path,
    key: path.join('.'),
    env: envName(path),
    type: base._zod.def.type,
    defaultValue,
    description: description ?? '',
  });
}

/** Every setting of the schema, in schema order. */
export const settings: readonly Setting[] = (() => {
  const out: Setting[] = [];
  collect(configSchema as unknown as AnySchema, [], out);
  return out;
})();
