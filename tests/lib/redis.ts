// A real redis-server on a free loopback port, for the scale-out tests; stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RunningRedis {
  port: number;
  url: string;
  pid: number;
  dir: string;
  /** Runs one command with redis-cli and returns its output. */
  cli(...args: string[]): Promise<string>;
  /** SIGTERM (Redis saves and exits), then SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** Starts again on the same port and directory (AOF restores the data). */
  restart(): Promise<void>;
  /** Freezes the process (SIGSTOP) for ms, then lets it go on (SIGCONT): a Redis that hangs. */
  freeze(ms: number): Promise<void>;
}

const running = new Set<RunningRedis>();

/** A port that was free a moment ago (the OS picks it; Redis cannot be asked for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPing(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('error', () => resolve(false));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (d) => {
        socket.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedis(): Promise<RunningRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-redis-'));
  const port = await freePort();
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec',
        '--save', '', '--daemonize', 'no', '--loglevel', 'warning', '--enable-debug-command', 'local'],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    await waitForPing(port, Date.now() + 10_000);
  };
  await launch();
  const stopChild = async () => {
    const c = child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const redis: RunningRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid ?? -1;
    },
    dir,
    cli: (...args) =>
      new Promise((resolve, reject) => {
        const p = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.once('error', reject);
        p.once('exit', () => resolve(out.trim()));
      }),
    stop: async () => {
      await stopChild();
      running.delete(redis);
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stopChild();
      await launch();
    },
    freeze: async (ms) => {
      child.kill('SIGSTOP');
      try {
        await new Promise((r) => setTimeout(r, ms));
      } finally {
        child.kill('SIGCONT');
      }
    },
  };
  running.add(redis);
  return redis;
}

export async function stopAllRedis(): Promise<void> {
  await Promise.all([...running].map((r) => r.stop()));
}
