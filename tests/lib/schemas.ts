// The protocol's JSON Schemas (draft 2020-12), compiled with ajv.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { repoRoot } from './server.js';

export const protocolDir = path.join(repoRoot, 'protocol');

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validators = new Map<string, ValidateFunction>();
for (const file of readdirSync(path.join(protocolDir, 'schema')).filter((f) => f.endsWith('.json'))) {
  const schema = JSON.parse(readFileSync(path.join(protocolDir, 'schema', file), 'utf8'));
  validators.set(file.replace(/\.json$/, ''), ajv.compile(schema));
}

export function schema(name: string): ValidateFunction {
  const v = validators.get(name);
  if (!v) throw new Error(`no schema ${name}.json in protocol/schema`);
  return v;
}

export const schemaNames = () => [...validators.keys()];

/** Validates; returns null when valid, else ajv's error text. */
export function check(name: string, value: unknown): string | null {
  const v = schema(name);
  return v(value) ? null : ajv.errorsText(v.errors, { separator: '; ' });
}

/** The one declaration the schemas are generated from (protocol/messages.json). */
const declaration = JSON.parse(readFileSync(path.join(protocolDir, 'messages.json'), 'utf8')) as {
  commands: { name: string }[];
  pushes: { type: string; schema_file?: string }[];
  shapes: Record<string, { schema_file?: string }>;
};

/** Server → client messages by `type`; the schema file that describes each. */
export const serverSchemaFor: Record<string, string> = Object.fromEntries(declaration.pushes.map((p) => [p.type, p.schema_file ?? p.type]));

/** Client → server commands by `type`: each command's schema is protocol/schema/<type>.json. */
export const commandSchemaFor: Record<string, string> = Object.fromEntries(declaration.commands.map((c) => [c.name, c.name]));

/** The other schema files: bodies the declaration names a file for (the join result, HTTP bodies). */
export const shapeSchemaFiles: string[] = Object.values(declaration.shapes).flatMap((s) => (s.schema_file ? [s.schema_file] : []));

export interface VectorCase {
  name: string;
  frame: string;
  valid: boolean;
  type?: string;
  code?: string;
  id?: string | null;
}

export function loadVectors(file: 'commands' | 'server_messages'): VectorCase[] {
  return JSON.parse(readFileSync(path.join(protocolDir, 'vectors', `${file}.json`), 'utf8')).cases;
}

/**
 * Checks one server → client frame (text) the way a client decoder would: JSON, an object, a known
 * `type`, and that type's schema. Returns null when accepted, else why it was rejected.
 */
export function checkServerFrame(text: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not an object';
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !(type in serverSchemaFor)) return `unknown type ${JSON.stringify(type)}`;
  return check(serverSchemaFor[type]!, value);
}
