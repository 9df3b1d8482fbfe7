// A WebSocket client on a bare TCP socket (node:net), for tests of the framing itself: it sends any
// bytes (unmasked frames, reserved bits, fragments, bad UTF-8) and parses what the server sends,
// failing on anything RFC 6455 forbids a server to send (masked frames, reserved bits, a bad header).
import net from 'node:net';

const DEFAULT_TIMEOUT_MS = 5_000;
const open = new Set<net.Socket>();

export const opcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  /** Reserved bits, as the 0x70 part of the first byte. */
  rsv?: number;
  /** Client frames must be masked; false sends one that is not. */
  mask?: boolean;
}

/** Encodes one client frame. */
export function encodeFrame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : (spec.payload ?? Buffer.alloc(0));
  const masked = spec.mask ?? true;
  const head = [((spec.fin ?? true) ? 0x80 : 0) | (spec.rsv ?? 0) | spec.opcode];
  const maskBit = masked ? 0x80 : 0;
  if (payload.length < 126) head.push(maskBit | payload.length);
  else if (payload.length <= 0xffff) head.push(maskBit | 126, payload.length >> 8, payload.length & 0xff);
  else throw new Error('raw-ws: frames over 64 KiB are not needed by the tests');
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const key = Buffer.from([0x9c, 0x21, 0x5e, 0x07]);
  return Buffer.concat([Buffer.from(head), key, Buffer.from(payload.map((b, i) => b ^ key[i % 4]!))]);
}

/** The payload of a close frame. */
export function closePayload(code: number, reason = ''): Buffer {
  return Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason, 'utf8')]);
}

export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

export interface HandshakeResult {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
}

export class RawWs {
  readonly frames: ServerFrame[] = [];
  /** Set when the server sent something a server must not. */
  violation: string | undefined;
  /** Resolves when the TCP connection is closed (by either side), with how. */
  readonly ended: Promise<{ error?: string }>;
  handshake: HandshakeResult | undefined;
  private buffer = Buffer.alloc(0);
  private inHeaders = true;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    open.add(socket);
    this.ended = new Promise((resolve) => {
      let error: string | undefined;
      socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
      socket.on('close', () => {
        open.delete(socket);
        this.wake();
        resolve(error ? { error } : {});
      });
    });
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
      this.wake();
    });
  }

  /** A bare TCP connection to the server (no bytes sent). */
  static async tcp(baseUrl: string): Promise<RawWs> {
    const url = new URL(baseUrl);
    if (url.hostname !== '127.0.0.1') throw new Error(`tests talk to 127.0.0.1 only, not ${baseUrl}`);
    const socket = net.connect(Number(url.port), '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawWs(socket);
  }

  /** Connects and sends an upgrade request for /ws; resolves once the response head arrived. */
  static async connect(
    baseUrl: string,
    opts: { headers?: Record<string, string>; key?: string; after?: Buffer } = {},
  ): Promise<RawWs> {
    const raw = await RawWs.tcp(baseUrl);
    const port = new URL(baseUrl).port;
    const headers: Record<string, string> = {
      Host: `127.0.0.1:${port}`,
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': opts.key ?? 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version': '13',
      ...(opts.headers ?? {}),
    };
    const head = `GET /ws HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`;
    // `after`: bytes sent in the same write as the request, before any response.
    raw.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), opts.after ?? Buffer.alloc(0)]));
    await raw.until(() => raw.handshake !== undefined, 'the response to the upgrade');
    return raw;
  }

  send(spec: FrameSpec): void {
    this.socket.write(encodeFrame(spec));
  }

  sendText(text: string): void {
    this.send({ opcode: opcode.text, payload: text });
  }

  /** The next server frame not taken yet. */
  async nextFrame(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ServerFrame> {
    await this.until(() => this.taken < this.frames.length, 'a frame', timeoutMs);
    return this.frames[this.taken++]!;
  }

  /** The next text message, parsed as JSON (skipping nothing: the next frame must be text). */
  async nextJson(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Record<string, unknown>> {
    const frame = await this.nextFrame(timeoutMs);
    if (frame.opcode !== opcode.text || !frame.fin) throw new Error(`expected a text frame, got opcode ${frame.opcode}`);
    return JSON.parse(frame.payload.toString('utf8')) as Record<string, unknown>;
  }

  /** Waits for the server's close frame (skipping data frames) and returns its code and reason. */
  async nextClose(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ code: number; reason: string }> {
    for (;;) {
      const frame = await this.nextFrame(timeoutMs);
      if (frame.opcode !== opcode.close) continue;
      if (frame.payload.length < 2) return { code: 1005, reason: '' };
      return { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString('utf8') };
    }
  }

  /** Resolves when the TCP connection has ended, or rejects after timeoutMs. */
  async waitEnded(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ error?: string }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.ended,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private taken = 0;

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async until(done: () => boolean, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.violation) throw new Error(`the server broke RFC 6455: ${this.violation}`);
      if (this.socket.destroyed) throw new Error(`connection closed before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private parse(): void {
    if (this.inHeaders) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      this.handshake = { status: Number(lines[0]!.split(' ')[1]), headers };
      this.buffer = this.buffer.subarray(end + 4);
      this.inHeaders = false;
      if (this.handshake.status !== 101) return; // an HTTP error: what follows is its body
    }
    if (this.handshake?.status !== 101) return;
    for (;;) {
      if (this.buffer.length < 2) return;
      const b0 = this.buffer[0]!;
      const b1 = this.buffer[1]!;
      if (b0 & 0x70) this.violation ??= 'reserved bits set';
      if (b1 & 0x80) this.violation ??= 'a masked server frame';
      let length = b1 & 0x7f;
      let at = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        at = 4;
        if (length < 126) this.violation ??= 'a length not in its shortest form';
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        at = 10;
        if (length <= 0xffff) this.violation ??= 'a length not in its shortest form';
      }
      if (this.buffer.length < at + length) return;
      this.frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload: this.buffer.subarray(at, at + length) });
      this.buffer = this.buffer.subarray(at + length);
    }
  }
}

/** Destroys every raw socket still open (the afterEach safety net). */
export function destroyRawSockets(): void {
  for (const s of open) s.destroy();
  open.clear();
}
