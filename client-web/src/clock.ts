// Server clock offset: how far the server's clock is ahead of this browser's (ms).
// protocol/README.md, "Timers and clocks": offset = server_time − midpoint of the request's send and
// receive times; keep the estimate from the fastest round trip. welcome.server_time gives a first,
// rough estimate (its round trip is unknown), which any ping replaces.

export interface ClockSample {
  offsetMs: number;
  /** Round trip of the ping it came from; Infinity for the welcome estimate. */
  rttMs: number;
}

export class ClockOffset {
  private best: ClockSample | null = null;

  /** The current estimate (0 before any sample). */
  get offsetMs(): number {
    return this.best?.offsetMs ?? 0;
  }

  get rttMs(): number {
    return this.best?.rttMs ?? Infinity;
  }

  get hasEstimate(): boolean {
    return this.best !== null;
  }

  /** Forget everything (a new connection may reach another server instance). */
  reset(): void {
    this.best = null;
  }

  /** From `welcome.server_time`, received at local time `receivedAt`. */
  fromWelcome(serverTime: number, receivedAt: number): void {
    this.consider({ offsetMs: serverTime - receivedAt, rttMs: Infinity });
  }

  /** From a ping reply: sent at `sentAt`, answered with `serverTime`, received at `receivedAt`. */
  fromPing(serverTime: number, sentAt: number, receivedAt: number): void {
    const rtt = Math.max(0, receivedAt - sentAt);
    this.consider({ offsetMs: serverTime - (sentAt + receivedAt) / 2, rttMs: rtt });
  }

  /** Server time now, given the local time `localNow`. */
  serverTime(localNow: number): number {
    return localNow + this.offsetMs;
  }

  private consider(sample: ClockSample): void {
    // Ties go to the newer sample (it reflects any drift since).
    if (!this.best || sample.rttMs <= this.best.rttMs) this.best = sample;
  }
}
