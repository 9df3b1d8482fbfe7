import { describe, expect, it } from 'vitest';
import { ClockOffset } from './clock';

describe('ClockOffset', () => {
  it('is 0 before any sample', () => {
    const c = new ClockOffset();
    expect(c.offsetMs).toBe(0);
    expect(c.hasEstimate).toBe(false);
    expect(c.serverTime(1000)).toBe(1000);
  });

  it('takes a rough estimate from welcome', () => {
    const c = new ClockOffset();
    c.fromWelcome(10_500, 10_000);
    expect(c.offsetMs).toBe(500);
    expect(c.rttMs).toBe(Infinity);
  });

  it('uses server_time − midpoint of send and receive, and any ping beats welcome', () => {
    const c = new ClockOffset();
    c.fromWelcome(99_999, 0);
    c.fromPing(5_100, 1_000, 1_200); // midpoint 1 100 → offset 4 000, rtt 200
    expect(c.offsetMs).toBe(4_000);
    expect(c.rttMs).toBe(200);
    expect(c.serverTime(2_000)).toBe(6_000);
  });

  it('keeps the estimate from the fastest round trip', () => {
    const c = new ClockOffset();
    c.fromPing(5_050, 1_000, 1_100); // rtt 100, offset 4 000
    c.fromPing(9_000, 2_000, 2_800); // rtt 800, offset 6 600: slower, ignored
    expect(c.offsetMs).toBe(4_000);
    c.fromPing(6_010, 3_000, 3_020); // rtt 20, offset 3 000
    expect(c.offsetMs).toBe(3_000);
    expect(c.rttMs).toBe(20);
  });

  it('a negative offset (server behind) works the same', () => {
    const c = new ClockOffset();
    c.fromPing(500, 10_000, 10_010);
    expect(c.offsetMs).toBe(-9_505);
  });

  it('reset forgets the estimate', () => {
    const c = new ClockOffset();
    c.fromPing(5_050, 1_000, 1_100);
    c.reset();
    expect(c.offsetMs).toBe(0);
    expect(c.hasEstimate).toBe(false);
  });
});
