// A small WebSocket test client for the Colloquy protocol: records every frame, matches replies
// and errors to commands by id, and waits for pushes with bounded timeouts.
import WebSocket from 'ws';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Frame = Record<string, any>;

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface Received {
  /** Parsed JSON (or {__unparsed: text} when the server sent something that is not JSON). */
  frame: Frame;
  text: string;
  binary: boolean;
  at: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const open = new Set<TestClient>();

interface Waiter {
  pred: (f: Frame) => boolean;
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class TestClient {
  /** Every frame received, in order (never consumed). */
  readonly received: Received[] = [];
  /** Frames not yet taken by nextFrame/nextEvent/send. */
  private unconsumed: Frame[] = [];
  private waiters: Waiter[] = [];
  private nextId = 1;
  readonly closed: Promise<CloseInfo>;
  private readonly listeners: ((frame: Frame) => void)[] = [];

  /** Calls fn with every frame as it arrives, in order, before anyone awaiting it resumes. */
  onFrame(fn: (frame: Frame) => void): void {
    this.listeners.push(fn);
  }
  private closeInfo: CloseInfo | undefined;
  private readonly welcomePromise: Promise<Frame>;

  private constructor(
    readonly ws: WebSocket,
    readonly label: string,
  ) {
    this.closed = new Promise<CloseInfo>((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        open.delete(this);
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`${this.label}: connection closed (${code} ${this.closeInfo.reason}) while waiting`));
        }
        resolve(this.closeInfo);
      });
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const text = buf.toString('utf8');
      let frame: Frame;
      try {
        const parsed: unknown = JSON.parse(text);
        frame = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Frame) : { __unparsed: text };
      } catch {
        frame = { __unparsed: text };
      }
      this.received.push({ frame, text, binary: isBinary, at: Date.now() });
      for (const listener of this.listeners) listener(frame);
      const i = this.waiters.findIndex((w) => w.pred(frame));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        clearTimeout(w!.timer);
        w!.resolve(frame);
      } else {
        this.unconsumed.push(frame);
      }
    });
    // Every frame is recorded; 'welcome' is the first one (the promise rejects if it is not).
    this.welcomePromise = new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label}: no welcome within ${DEFAULT_TIMEOUT_MS} ms`)), DEFAULT_TIMEOUT_MS);
      ws.once('message', () => {
        clearTimeout(timer);
        const first = this.received[0]!.frame;
        if (first.type === 'welcome') resolve(first);
        else reject(new Error(`${label}: first frame is not welcome: ${this.received[0]!.text}`));
      });
    });
    this.welcomePromise.catch(() => undefined);
    ws.on('error', () => undefined); // surfaced through 'close'
  }

  /** Opens a connection to wsUrl (ws://127.0.0.1:PORT/ws) and resolves once it is open. */
  static connect(wsUrl: string, label = 'client', timeoutMs = DEFAULT_TIMEOUT_MS): Promise<TestClient> {
    if (!/^ws:\/\/127\.0\.0\.1:\d+\//.test(wsUrl)) throw new Error(`tests talk to 127.0.0.1 only, not ${wsUrl}`);
    const ws = new WebSocket(wsUrl, { handshakeTimeout: timeoutMs, maxPayload: 1 << 20 });
    const client = new TestClient(ws, label);
    open.add(client);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`${label}: connect timeout`));
      }, timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(client);
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Connects and waits for the welcome push. */
  static async connectWelcomed(wsUrl: string, label = 'client'): Promise<TestClient> {
    const c = await TestClient.connect(wsUrl, label);
    await c.welcome();
    return c;
  }

  /** The welcome push (the first frame). It stays in `received`, and is taken out of the queue. */
  async welcome(): Promise<Frame> {
    const w = await this.welcomePromise;
    const i = this.unconsumed.indexOf(w);
    if (i >= 0) this.unconsumed.splice(i, 1);
    return w;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get closeResult(): CloseInfo | undefined {
    return this.closeInfo;
  }

  /** Sends a command (an id is added when it has none) and resolves with its reply or error. */
  send(cmd: Frame, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    const withId = 'id' in cmd ? cmd : { ...cmd, id: `${this.label}-${this.nextId++}` };
    const id = withId.id;
    const result = this.nextFrame((f) => (f.type === 'reply' || f.type === 'error') && f.id === id, timeoutMs, `response to ${JSON.stringify(withId)}`);
    this.ws.send(JSON.stringify(withId));
    return result;
  }

  /** Sends a command and resolves with the reply's result; throws on an error frame. */
  async request(cmd: Frame, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    const f = await this.send(cmd, timeoutMs);
    if (f.type !== 'reply') throw new Error(`${this.label}: ${JSON.stringify(cmd)} failed: ${JSON.stringify(f)}`);
    return f.result;
  }

  /** Sends exactly these bytes, as a text frame unless binary is set. */
  sendRaw(data: string | Buffer, opts: { binary?: boolean } = {}): void {
    this.ws.send(data, { binary: opts.binary ?? false });
  }

  /** The next reply or error (for frames sent with sendRaw). */
  nextResponse(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    return this.nextFrame((f) => f.type === 'reply' || f.type === 'error', timeoutMs, 'a reply or error');
  }

  /** The first not-yet-taken frame matching pred (already received or arriving within timeoutMs). */
  nextFrame(pred: (f: Frame) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS, what = 'a matching frame'): Promise<Frame> {
    const i = this.unconsumed.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.unconsumed.splice(i, 1)[0]!);
    if (this.closeInfo) {
      return Promise.reject(new Error(`${this.label}: closed (${this.closeInfo.code} ${this.closeInfo.reason}) before ${what}`));
    }
    return new Promise<Frame>((resolve, reject) => {
      const w: Waiter = {
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          reject(new Error(`${this.label}: no ${what} within ${timeoutMs} ms; received: ${this.received.map((r) => r.text).join('\n')}`));
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  /** The next `event` push matching pred (any event when pred is omitted). */
  nextEvent(pred: (f: Frame) => boolean = () => true, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    return this.nextFrame((f) => f.type === 'event' && pred(f), timeoutMs, 'matching event');
  }

  /** Frames received and not yet taken. */
  pending(): Frame[] {
    return [...this.unconsumed];
  }

  /** All `event` pushes received so far (taken or not). */
  events(): Frame[] {
    return this.received.filter((r) => r.frame.type === 'event').map((r) => r.frame);
  }

  /** Fails if any frame arrives within ms (frames already received before the call do not count). */
  async expectNoFrame(ms = 300): Promise<void> {
    const before = this.received.length;
    await new Promise((r) => setTimeout(r, ms));
    if (this.received.length !== before) {
      const extra = this.received.slice(before).map((r) => r.text);
      throw new Error(`${this.label}: expected no frame within ${ms} ms, got:\n${extra.join('\n')}`);
    }
  }

  /** Ping: resolves with the reply (throws if the connection does not answer). */
  async ping(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    const f = await this.send({ type: 'ping' }, timeoutMs);
    if (f.type !== 'reply') throw new Error(`${this.label}: ping failed: ${JSON.stringify(f)}`);
    return f;
  }

  /** Clean close (code 1000). */
  async close(timeoutMs = 2_000): Promise<CloseInfo | undefined> {
    if (this.closeInfo) return this.closeInfo;
    this.ws.close(1000);
    const timer = new Promise<undefined>((r) => setTimeout(r, timeoutMs));
    const res = await Promise.race([this.closed, timer]);
    if (!res) this.ws.terminate();
    return res;
  }

  /** Abrupt close: destroys the TCP socket without a close handshake. */
  terminate(): void {
    this.ws.terminate();
  }

  /** Resolves with the close info, or rejects after timeoutMs. */
  waitClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<CloseInfo> {
    return Promise.race([
      this.closed,
      new Promise<CloseInfo>((_, reject) =>
        setTimeout(() => reject(new Error(`${this.label}: not closed within ${timeoutMs} ms`)), timeoutMs),
      ),
    ]);
  }
}

let keep = new Set<TestClient>();

/** Marks the clients open now (made in beforeAll) as shared: terminateTestClients leaves them. */
export function markSharedClients(): void {
  keep = new Set(open);
}

/** Terminates the clients a test opened and left open (the afterEach safety net). */
export function terminateTestClients(): void {
  for (const c of open) if (!keep.has(c)) c.terminate();
}

/** Terminates every client still open (the afterAll safety net). */
export function terminateAllClients(): void {
  for (const c of open) c.terminate();
  open.clear();
  keep.clear();
}
