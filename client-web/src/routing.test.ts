import { describe, expect, it } from 'vitest';
import { inviteTarget, parseFragment, parseRoute, storeFragmentSecret } from './routing';
import { MemoryStorage, storageKeys } from './storage';

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
  it('reads key and code', () => {
    expect(parseFragment('#key=abc')).toEqual({ kind: 'key', value: 'abc' });
    expect(parseFragment('#code=x-Y_z')).toEqual({ kind: 'code', value: 'x-Y_z' });
    expect(parseFragment('')).toBeNull();
    expect(parseFragment('#')).toBeNull();
    expect(parseFragment('#other=1')).toBeNull();
  });

  it('stores the secret under the room and keeps a resume token for the same secret', () => {
    const s = new MemoryStorage();
    expect(storeFragmentSecret(s, 'r1', '#code=c1')).toBe(true);
    expect(s.getItem(storageKeys.code('r1'))).toBe('c1');
    s.setItem(storageKeys.resume('r1'), 'T');
    storeFragmentSecret(s, 'r1', '#code=c1');
    expect(s.getItem(storageKeys.resume('r1'))).toBe('T');
  });

  it('a different secret replaces the old one and drops the resume token', () => {
    const s = new MemoryStorage();
    storeFragmentSecret(s, 'r1', '#code=c1');
    s.setItem(storageKeys.resume('r1'), 'T');
    storeFragmentSecret(s, 'r1', '#key=k1');
    expect(s.getItem(storageKeys.key('r1'))).toBe('k1');
    expect(s.getItem(storageKeys.code('r1'))).toBeNull();
    expect(s.getItem(storageKeys.resume('r1'))).toBeNull();
  });
});

describe('inviteTarget', () => {
  const origin = 'https://colloquy.example.org';
  it('takes a full invite or facilitator link, or a room path with its secret', () => {
    expect(inviteTarget(' https://colloquy.example.org/room/abc#code=xyz ', origin)).toBe('https://colloquy.example.org/room/abc#code=xyz');
    expect(inviteTarget('http://localhost:8080/room/abc#key=k', origin)).toBe('http://localhost:8080/room/abc#key=k');
    expect(inviteTarget('/room/abc#code=xyz', origin)).toBe('https://colloquy.example.org/room/abc#code=xyz');
  });
  it('refuses what is not a room link with a secret', () => {
    for (const bad of ['', 'hello', 'https://colloquy.example.org/room/abc', 'https://colloquy.example.org/#code=x', 'javascript:alert(1)//room/a#code=b', 'ftp://x/room/a#code=b']) {
      expect(inviteTarget(bad, origin), bad).toBeNull();
    }
  });
});
