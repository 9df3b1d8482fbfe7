import { describe, expect, it } from 'vitest';
import { inviteTarget, parseFragment, parseRoute, rejoinLink, storeFragmentSecret } from './routing';
import { MemoryStorage, rememberIdentity, rememberedIdentity, storageKeys, storedSecret, type Stores } from './storage';

function stores(): Stores & { tab: MemoryStorage; device: MemoryStorage } {
  return { tab: new MemoryStorage(), device: new MemoryStorage() };
}

describe('parseRoute', () => {
  it('finds the landing page and rooms', () => {
    expect(parseRoute('/')).toEqual({ page: 'landing' });
    expect(parseRoute('/room/k3j5q2m7x4c8a9bd')).toEqual({ page: 'room', roomId: 'k3j5q2m7x4c8a9bd' });
    expect(parseRoute('/room/k3j5q2m7x4c8a9bd/')).toEqual({ page: 'room', roomId: 'k3j5q2m7x4c8a9bd' });
    expect(parseRoute('/room/')).toEqual({ page: 'not_found' });
    expect(parseRoute('/room/a/b')).toEqual({ page: 'not_found' });
    expect(parseRoute('/room/' + 'r'.repeat(65))).toEqual({ page: 'not_found' });
    expect(parseRoute('/elsewhere')).toEqual({ page: 'not_found' });
  });
});

describe('fragment secrets', () => {
  it('reads a rejoin token, a key or a code (in that order when several)', () => {
    expect(parseFragment('#key=abc')).toEqual({ kind: 'key', value: 'abc' });
    expect(parseFragment('#code=x-Y_z')).toEqual({ kind: 'code', value: 'x-Y_z' });
    expect(parseFragment('#resume=T0k')).toEqual({ kind: 'resume', value: 'T0k' });
    expect(parseFragment('#code=c&key=k')).toEqual({ kind: 'key', value: 'k' });
    expect(parseFragment('#code=c&resume=t')).toEqual({ kind: 'resume', value: 't' });
    expect(parseFragment('')).toBeNull();
    expect(parseFragment('#')).toBeNull();
    expect(parseFragment('#main')).toBeNull();
    expect(parseFragment('#other=1')).toBeNull();
    expect(parseFragment('#code=' + 'c'.repeat(129))).toBeNull();
  });

  it('keeps a code in the tab and for the browser, and never drops the identity a browser has', () => {
    const s = stores();
    s.device.setItem(storageKeys.resume('r1'), 'T');
    expect(storeFragmentSecret(s, 'r1', '#code=c1')).toBe('code');
    expect(s.tab.getItem(storageKeys.code('r1'))).toBe('c1');
    expect(s.device.getItem(storageKeys.code('r1'))).toBe('c1');
    expect(s.device.getItem(storageKeys.resume('r1'))).toBe('T');
    expect(storeFragmentSecret(s, 'r1', '#main')).toBeNull();
  });

  it('a tab joins with what it was opened with; the browser keeps both the key and the code', () => {
    const s = stores();
    storeFragmentSecret(s, 'r1', '#key=k1');
    storeFragmentSecret(s, 'r1', '#code=c1');
    expect(s.tab.getItem(storageKeys.code('r1'))).toBe('c1');
    expect(s.tab.getItem(storageKeys.key('r1'))).toBeNull();
    expect(storedSecret(s, 'r1')).toEqual({ code: 'c1' });
    expect(s.device.getItem(storageKeys.key('r1'))).toBe('k1');
    // A new tab (its own session store, the same browser) finds the facilitator key first.
    expect(storedSecret({ tab: new MemoryStorage(), device: s.device }, 'r1')).toEqual({ key: 'k1' });
  });

  it('a rejoin link becomes the tab\'s and the browser\'s identity, not knowing the name yet', () => {
    const s = stores();
    rememberIdentity(s, 'r1', 'OLD', { id: 'm2', name: 'Ada', role: 'participant' });
    expect(storeFragmentSecret(s, 'r1', '#resume=NEW')).toBe('resume');
    expect(rememberedIdentity(s, 'r1')).toEqual({ token: 'NEW', self: null });
    expect(rememberedIdentity({ tab: new MemoryStorage(), device: s.device }, 'r1')).toEqual({ token: 'NEW', self: null });
    // The same link again changes nothing (the name learnt since stays).
    rememberIdentity(s, 'r1', 'NEW', { id: 'm2', name: 'Ada', role: 'participant' });
    storeFragmentSecret(s, 'r1', '#resume=NEW');
    expect(rememberedIdentity(s, 'r1')?.self?.name).toBe('Ada');
  });

  it('builds the rejoin link with the token in the fragment', () => {
    expect(rejoinLink('k3j5', 'a-b_c', 'https://c.example')).toBe('https://c.example/room/k3j5#resume=a-b_c');
    expect(parseFragment(new URL(rejoinLink('k3j5', 'a-b_c', 'https://c.example')).hash)).toEqual({ kind: 'resume', value: 'a-b_c' });
  });
});

describe('inviteTarget', () => {
  const origin = 'https://colloquy.example.org';
  it('takes a full invite or facilitator link, or a room path with its secret', () => {
    expect(inviteTarget(' https://colloquy.example.org/room/abc#code=xyz ', origin)).toBe('https://colloquy.example.org/room/abc#code=xyz');
    expect(inviteTarget('http://localhost:8080/room/abc#key=k', origin)).toBe('http://localhost:8080/room/abc#key=k');
    expect(inviteTarget('/room/abc#code=xyz', origin)).toBe('https://colloquy.example.org/room/abc#code=xyz');
    expect(inviteTarget('/room/abc#resume=t', origin)).toBe('https://colloquy.example.org/room/abc#resume=t');
  });
  it('refuses what is not a room link with a secret', () => {
    for (const bad of ['', 'hello', 'https://colloquy.example.org/room/abc', 'https://colloquy.example.org/#code=x', 'javascript:alert(1)//room/a#code=b', 'ftp://x/room/a#code=b']) {
      expect(inviteTarget(bad, origin), bad).toBeNull();
    }
  });
});
