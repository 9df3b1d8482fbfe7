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

/** Server → client messages by `type`; the schema file that describes each. */
export const serverSchemaFor: Record<string, string> = {
  welcome: 'welcome',
  event: 'event',
  reply: 'reply',
  error: 'error',
  prompts_pending: 'prompts-pending',
  ephemeral: 'ephemeral-push',
};

/** Client → server commands by `type`. */
/** Each command's schema is protocol/schema/<type>.json. */
export const commandSchemaFor: Record<string, string> = Object.fromEntries(
  [
    'join', 'leave', 'ping', 'set_role', 'hand_over', 'claim_facilitation', 'settings', 'round_start', 'round_finish',
    'round_pass', 'round_skip', 'round_later', 'round_end', 'hand_raise', 'hand_lower', 'floor_give', 'floor_release',
    'floor_settings', 'timer', 'prompt_submit', 'prompt_release', 'prompt_hold', 'prompt_discard', 'prompt_upvote', 'deck_add', 'deck_remove', 'deck_draw',
    'prompt_pose', 'audit_open', 'audit_answer', 'audit_close', 'ephemeral',
  ].map((t) => [t, t]),
);

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
