// HTTP helpers over node:http (not fetch), so tests control the exact request target, the Host
// header and the body bytes. Loopback only.
import http from 'node:http';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface RequestOptions {
  method?: string;
  /** The raw request target, sent as is (no normalization). */
  path: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  timeoutMs?: number;
}

export function httpRequest(baseUrl: string, opts: RequestOptions): Promise<HttpResult> {
  const url = new URL(baseUrl);
  if (url.hostname !== '127.0.0.1') throw new Error(`tests talk to 127.0.0.1 only, not ${baseUrl}`);
  const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, 'utf8');
  const headers: Record<string, string | number> = { ...(opts.headers ?? {}) };
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
    headers['Content-Length'] = body.length;
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = http.request(
      {
        host: '127.0.0.1',
        port: Number(url.port),
        method: opts.method ?? 'GET',
        path: opts.path,
        headers,
        agent: false,
        setHost: !Object.keys(headers).some((h) => h.toLowerCase() === 'host'),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', (e) => {
          if (!settled) reject(e);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`HTTP ${opts.method ?? 'GET'} ${opts.path}: no response within ${opts.timeoutMs ?? 5000} ms`));
    }, opts.timeoutMs ?? 5_000);
    req.on('error', (e) => {
      clearTimeout(timer);
      // A server may answer (e.g. 413) and close before reading the whole body: the response
      // still counts; only an error without a response fails.
      if (!settled) reject(e);
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export interface CreatedRoom {
  room: string;
  title: string;
  facilitator_key: string;
  join_code: string;
  facilitator_url: string;
  invite_url: string;
}

/** POST /api/rooms with {title}; returns the raw result (any status). */
export function postRoom(
  baseUrl: string,
  body: string | Buffer | object,
  headers: Record<string, string | number> = { 'Content-Type': 'application/json' },
): Promise<HttpResult> {
  const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return httpRequest(baseUrl, { method: 'POST', path: '/api/rooms', headers, body: text });
}

/** Creates a room and returns its parsed 201 body (throws on any other status). */
export async function createRoom(baseUrl: string, title = 'Spring cohort', opts: { host?: string; headers?: Record<string, string> } = {}): Promise<CreatedRoom> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...(opts.headers ?? {}) };
  if (opts.host) headers.Host = opts.host;
  const res = await postRoom(baseUrl, { title }, headers);
  if (res.status !== 201) throw new Error(`POST /api/rooms -> ${res.status} ${res.text}`);
  return res.json as CreatedRoom;
}

export async function getJson(baseUrl: string, path: string): Promise<HttpResult> {
  return httpRequest(baseUrl, { method: 'GET', path });
}

/**
 * Sends a WebSocket upgrade request to /ws on 127.0.0.1:`port` with these headers (over the
 * handshake's own) and resolves with the HTTP status (101 when upgraded), the body of a refusal,
 * and the upgraded socket (the caller destroys it).
 */
export function wsUpgrade(port: number, headers: Record<string, string> = {}): Promise<{ status: number; body: string; socket?: import('node:net').Socket }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: '/ws', timeout: 5000,
      headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers,
      },
    });
    req.on('upgrade', (res, socket) => resolve({ status: res.statusCode ?? 0, body: '', socket }));
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
