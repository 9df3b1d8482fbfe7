import { describe, expect, it } from 'vitest';
import {
  MemoryStorage,
  forgetIdentity,
  forgetRoom,
  forgetSecret,
  readLayered,
  rememberIdentity,
  rememberedIdentity,
  storageKeys,
  type StorageLike,
} from './storage';

const ada = { id: 'm2', name: 'Ada', role: 'participant' };
const bea = { id: 'm3', name: 'Bea', role: 'participant' };

describe('identities', () => {
  it('a member is remembered in the tab and for the browser; a new tab of the browser finds them', () => {
    const tab = new MemoryStorage();
    const device = new MemoryStorage();
    rememberIdentity({ tab, device }, 'r1', 'TA', ada);
    expect(rememberedIdentity({ tab, device }, 'r1')).toEqual({ token: 'TA', self: ada });
    expect(rememberedIdentity({ tab: new MemoryStorage(), device }, 'r1')).toEqual({ token: 'TA', self: ada });
    expect(rememberedIdentity({ tab, device }, 'other')).toBeNull();
  });

  it('a tab stays who it is when another tab of the browser becomes someone else', () => {
    const device = new MemoryStorage();
    const first = { tab: new MemoryStorage(), device };
    const second = { tab: new MemoryStorage(), device };
    rememberIdentity(first, 'r1', 'TA', ada);
    rememberIdentity(second, 'r1', 'TB', bea);
    expect(rememberedIdentity(first, 'r1')?.self).toEqual(ada);
    expect(rememberedIdentity(second, 'r1')?.self).toEqual(bea);
    // The first forgets Ada ("Not you?"): the browser's Bea, who is another tab's, stays.
    forgetIdentity(first, 'r1', 'TA');
    expect(readLayered(second, storageKeys.resume('r1'))).toBe('TB');
    expect(rememberedIdentity(first, 'r1')).toEqual({ token: 'TB', self: bea });
    // Forgetting Bea's token forgets her everywhere.
    forgetIdentity(second, 'r1', 'TB');
    expect(rememberedIdentity(first, 'r1')).toBeNull();
    expect(rememberedIdentity(second, 'r1')).toBeNull();
  });

  it('a refused key or code is forgotten only where it is that value', () => {
    const tab = new MemoryStorage();
    const device = new MemoryStorage();
    tab.setItem(storageKeys.code('r1'), 'wrong');
    device.setItem(storageKeys.code('r1'), 'right');
    device.setItem(storageKeys.key('r1'), 'k');
    forgetSecret({ tab, device }, 'r1', { code: 'wrong' });
    expect(tab.getItem(storageKeys.code('r1'))).toBeNull();
    expect(device.getItem(storageKeys.code('r1'))).toBe('right');
    expect(device.getItem(storageKeys.key('r1'))).toBe('k');
  });

  it('a gone room is forgotten whole, other rooms stay', () => {
    const tab = new MemoryStorage();
    const device = new MemoryStorage();
    rememberIdentity({ tab, device }, 'r1', 'TA', ada);
    rememberIdentity({ tab, device }, 'r2', 'T2', ada);
    for (const key of [storageKeys.key, storageKeys.code, storageKeys.invite, storageKeys.votes, storageKeys.audits]) {
      device.setItem(key('r1'), 'x');
    }
    forgetRoom({ tab, device }, 'r1');
    for (const key of Object.values(storageKeys)) {
      expect(device.getItem(key('r1'))).toBeNull();
      expect(tab.getItem(key('r1'))).toBeNull();
    }
    expect(rememberedIdentity({ tab, device }, 'r2')?.token).toBe('T2');
  });

  it('storage that throws (privacy modes, a full quota) never breaks a tab', () => {
    const broken: StorageLike = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {
        throw new Error('SecurityError');
      },
    };
    const tab = new MemoryStorage();
    rememberIdentity({ tab, device: broken }, 'r1', 'TA', ada);
    expect(rememberedIdentity({ tab, device: broken }, 'r1')).toEqual({ token: 'TA', self: ada });
    forgetIdentity({ tab, device: broken }, 'r1', 'TA');
    expect(rememberedIdentity({ tab, device: broken }, 'r1')).toBeNull();
  });

  it('an unreadable "who" record is no name, the token still counts', () => {
    const tab = new MemoryStorage();
    tab.setItem(storageKeys.resume('r1'), 'TA');
    tab.setItem(storageKeys.self('r1'), '{not json');
    expect(rememberedIdentity({ tab, device: new MemoryStorage() }, 'r1')).toEqual({ token: 'TA', self: null });
  });
});
