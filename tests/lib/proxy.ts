// HAProxy (Debian's) on a free loopback port in front of several server instances, as an
// operator runs them (deploy/haproxy.cfg has the production settings); stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './redis.js';

export interface RunningProxy {
  port: number;
  baseUrl: string;
  wsUrl: string;
  stop(): Promise<void>;
}

const running = new Set<RunningProxy>();

export async function startProxy(backendPorts: number[]): Promise<RunningProxy> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-proxy-'));
  const port = await freePort();
  const config = [
    'global',
    '    maxconn 2000',
    'defaults',
    '    mode http',
    '    retries 3',
    '    option redispatch 1',
    '    timeout connect 1s',
    '    timeout client 60s',
    '    timeout server 60s',
    '    timeout tunnel 1h',
    '    timeout check 1s',
    'frontend colloquy',
    `    bind 127.0.0.1:${port}`,
    '    default_backend colloquy',
    'backend colloquy',
    '    balance roundrobin',
    '    option httpchk GET /readyz',
    '    http-check expect status 200',
    '    default-server check inter 500ms rise 1 fall 1',
    ...backendPorts.map((p, i) => `    server i${i} 127.0.0.1:${p}`),
    '',
  ].join('\n');
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  // Ready when it answers through to an instance.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) break;
    } catch {
      // not yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`haproxy did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const proxy: RunningProxy = {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    stop: async () => {
      running.delete(proxy);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(proxy);
  return proxy;
}

export async function stopAllProxies(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}
