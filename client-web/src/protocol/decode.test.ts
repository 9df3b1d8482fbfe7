// Details beyond the shared vectors: what the decoder returns, and the server's text rules.
import { describe, expect, it } from 'vitest';
import { checkCommand, decodeJoinResult, decodeServerMessage } from './decode';
import { cleanDisplayText, codePointLength } from './text';

describe('decodeServerMessage', () => {
  it('maps an unknown event kind to "unknown" and keeps the seq', () => {
    const r = decodeServerMessage(
      '{"type":"event","room":"r","seq":7,"time":1,"event":{"kind":"from_the_future","x":1}}',
    );
    expect(r).toEqual({
      ok: true,
      message: { type: 'event', room: 'r', seq: 7, time: 1, event: { kind: 'unknown', original_kind: 'from_the_future' } },
    });
  });

  it('drops unknown extra fields', () => {
    const r = decodeServerMessage(
      '{"type":"welcome","protocol":1,"server":"s","server_time":1,"max_frame_bytes":65536,"features":["x"]}',
    );
    expect(r.ok && r.message).toEqual({ type: 'welcome', protocol: 1, server: 's', server_time: 1, max_frame_bytes: 65536 });
  });

  it('reads a join result', () => {
    const r = decodeServerMessage(
      '{"type":"reply","id":"1","result":{"member":{"id":"m2","name":"Ada","role":"participant"},"resume_token":"T","snapshot":{"room":"r","seq":3,"title":"S","members":[{"id":"m2","name":"Ada","role":"participant","presence":"online"}]}}}',
    );
    expect(r.ok).toBe(true);
    if (r.ok && r.message.type === 'reply') {
      expect(decodeJoinResult(r.message.result)?.snapshot?.members[0]?.presence).toBe('online');
    }
    expect(decodeJoinResult({ member: {}, resume_token: 'T' })).toBeUndefined();
  });

  it('reads a replay join result, and refuses one with both or neither of snapshot and replay', () => {
    const member = { id: 'm2', name: 'Ada', role: 'participant' };
    const snapshot = { room: 'r', seq: 3, title: 'S', members: [] };
    expect(decodeJoinResult({ member, resume_token: 'T', replay: { after: 3, events: 2 } })).toEqual({
      member,
      resume_token: 'T',
      replay: { after: 3, events: 2 },
    });
    expect(decodeJoinResult({ member, resume_token: 'T' })).toBeUndefined();
    expect(decodeJoinResult({ member, resume_token: 'T', snapshot, replay: { after: 3, events: 0 } })).toBeUndefined();
    expect(decodeJoinResult({ member, resume_token: 'T', replay: { after: -1, events: 0 } })).toBeUndefined();
  });
});

describe('checkCommand beyond the vectors', () => {
  const join = (name: string) => JSON.stringify({ type: 'join', id: '1', room: 'r', code: 'c', name });

  it('trims ASCII white space only, as the server does', () => {
    expect(checkCommand(join('\t Ada \n'))).toEqual({ ok: true, type: 'join' });
    // U+00A0 is not trimmed and is not a control character: a valid name.
    expect(checkCommand(join('\u00a0'))).toEqual({ ok: true, type: 'join' });
    expect(checkCommand(join('A\u0085'))).toMatchObject({ ok: false, code: 'invalid_name' });
    expect(checkCommand(join('A\u2028B'))).toMatchObject({ ok: false, code: 'invalid_name' });
  });

  it('counts code points, not UTF-16 units', () => {
    expect(codePointLength('😀'.repeat(60))).toBe(60);
    expect(checkCommand(join('😀'.repeat(60)))).toEqual({ ok: true, type: 'join' });
    expect(checkCommand(join('😀'.repeat(61)))).toMatchObject({ ok: false, code: 'invalid_name' });
  });

  it('treats a lone surrogate escape as bad JSON, as the server parser does', () => {
    expect(checkCommand('{"type":"ping","id":"\\ud800"}')).toEqual(
      expect.objectContaining({ ok: false, code: 'bad_json', id: null }),
    );
  });

  it('checks unknown fields before the other join fields', () => {
    expect(checkCommand('{"type":"join","id":"1","extra":1}')).toMatchObject({ ok: false, code: 'unknown_field', id: '1' });
  });

  it('cleanDisplayText returns the trimmed text', () => {
    expect(cleanDisplayText('  Lin  ', 60)).toBe('Lin');
    expect(cleanDisplayText('', 60)).toBeNull();
  });
});
