// Conformance: the client's checker and decoder agree with every case in protocol/vectors/.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkCommand, decodeServerMessage } from './decode';

interface CommandCase {
  name: string;
  frame: string;
  valid: boolean;
  type?: string;
  code?: string;
  id?: string | null;
}
interface ServerCase {
  name: string;
  frame: string;
  valid: boolean;
}

function load<T>(file: string): T[] {
  const url = new URL(`../../../protocol/vectors/${file}`, import.meta.url);
  const doc = JSON.parse(readFileSync(url, 'utf8')) as { cases: T[] };
  return doc.cases;
}

const commandCases = load<CommandCase>('commands.json');
const serverCases = load<ServerCase>('server_messages.json');

describe('protocol/vectors/commands.json', () => {
  it('has cases', () => {
    expect(commandCases.length).toBeGreaterThan(0);
  });
  it.each(commandCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = checkCommand(c.frame);
    if (c.valid) {
      expect(r).toEqual({ ok: true, type: c.type });
    } else {
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe(c.code);
        expect(r.id).toBe(c.id);
      }
    }
  });
});

describe('protocol/vectors/server_messages.json', () => {
  it('has cases', () => {
    expect(serverCases.length).toBeGreaterThan(0);
  });
  it.each(serverCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = decodeServerMessage(c.frame);
    expect(r.ok, r.ok ? 'accepted' : r.reason).toBe(c.valid);
  });
});
