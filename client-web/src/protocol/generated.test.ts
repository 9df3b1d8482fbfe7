// The generated protocol files (this directory's generated.ts, the C++ structs and codecs, the JSON
// Schemas, the README tables) agree with protocol/messages.json: `generate.mjs --check` says so,
// and says otherwise when one of them is changed by hand.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMAND_TYPES, EVENT_KINDS, PROTOCOL_MINOR, PROTOCOL_VERSION } from './generated';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const script = path.join(repo, 'protocol/generate.mjs');
const declaration = JSON.parse(readFileSync(path.join(repo, 'protocol/messages.json'), 'utf8'));

function check(root: string): { ok: boolean; output: string } {
  try {
    const out = execFileSync(process.execPath, [script, '--root', root, '--check'], { stdio: 'pipe' });
    return { ok: true, output: String(out) };
  } catch (e) {
    return { ok: false, output: String((e as { stderr?: Buffer }).stderr ?? e) };
  }
}

describe('generated protocol files', () => {
  const copies: string[] = [];
  afterAll(() => copies.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('are current with protocol/messages.json', () => {
    const r = check(repo);
    expect(r.ok, r.output).toBe(true);
  });

  it('--check fails when a generated file was edited by hand', () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'colloquy-generated-'));
    copies.push(copy);
    for (const p of ['protocol/messages.json', 'protocol/README.md', 'protocol/schema', 'server/core/generated', 'server/protocol/generated', 'server/log/generated', 'client-web/src/protocol/generated.ts']) {
      cpSync(path.join(repo, p), path.join(copy, p), { recursive: true });
    }
    expect(check(copy).ok).toBe(true);
    const ts = path.join(copy, 'client-web/src/protocol/generated.ts');
    writeFileSync(ts, readFileSync(ts, 'utf8').replace("'round_pass'", "'round_passed'"));
    const r = check(copy);
    expect(r.ok).toBe(false);
    expect(r.output).toContain('client-web/src/protocol/generated.ts');
  });

  it('carry the declaration: version, every command and every event kind', () => {
    expect(PROTOCOL_VERSION).toBe(declaration.protocol.major);
    expect(PROTOCOL_MINOR).toBe(declaration.protocol.minor);
    expect(COMMAND_TYPES).toEqual(declaration.commands.map((c: { name: string }) => c.name));
    expect(EVENT_KINDS).toEqual(declaration.events.map((e: { kind: string }) => e.kind));
  });
});
