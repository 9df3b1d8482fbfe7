// Starts the real Colloquy binary on 127.0.0.1 with an OS-chosen port, for one test file or test.
// Every started server is tracked and stopped by PID (SIGTERM, then SIGKILL) by stopAllServers(),
// which lib/setup.ts runs after every test file; a process 'exit' hook SIGKILLs any leftovers.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const binaryPath = process.env.COLLOQUY_BIN ?? path.join(repoRoot, 'build', 'server', 'colloquy');
export const staticDir = process.env.COLLOQUY_STATIC_DIR ?? path.join(repoRoot, 'client-web', 'dist');

const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const READY_LINE = /^colloquy listening on http:\/\/127\.0\.0\.1:(\d+)\s*$/;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** Extra command-line flags, e.g. ['--max-rooms', '1']. */
  args?: string[];
  /** Extra environment variables (merged over a copy of process.env without COLLOQUY_* settings). */
  env?: Record<string, string>;
  /**
   * The server's --data-dir. Default: a fresh temporary directory, removed when the server stops,
   * so servers never share (or lock) a directory and no test sees another test's rooms.
   */
  dataDir?: string;
}

export interface RunningServer {
  port: number;
  baseUrl: string;
  wsUrl: string;
  pid: number;
  /** Everything the server wrote to stderr so far (its log). */
  stderr(): string;
  /** The --data-dir this server uses. */
  dataDir: string;
  /** Everything the server wrote to stdout so far. */
  stdout(): string;
  /** Resolves when the process has exited (by itself or by stop()). */
  exited: Promise<ExitInfo>;
  /** Sends a signal to this server's PID only. */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, wait up to 5 s, then SIGKILL. Idempotent. */
  stop(): Promise<ExitInfo>;
}

const running = new Set<RunningServer>();

function cleanEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Only the flags the test passes configure the server: settings from the caller's shell
    // (COLLOQUY_PORT, COLLOQUY_BIND, …) must not leak into it. COLLOQUY_BIN/STATIC_DIR are ours.
    if (k.startsWith('COLLOQUY_')) continue;
    env[k] = v;
  }
  return { ...env, ...(extra ?? {}) };
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  if (!existsSync(binaryPath)) {
    throw new Error(
      `server binary not found at ${binaryPath}; build it with ` +
        '`cmake --build build --target colloquy` or set COLLOQUY_BIN',
    );
  }
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'colloquy-test-data-'));
  const removeDataDir = () => {
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const args = ['--bind', '127.0.0.1', '--port', '0', '--data-dir', dataDir];
  if (existsSync(staticDir)) args.push('--static-dir', staticDir);
  // Every test connects from 127.0.0.1, so the per-address limits would count all of them as one
  // client; they are lifted here and tested where they are set (integration/limits.test.ts).
  args.push('--room-creations-per-hour', '1000000', '--max-http-requests-per-second', '1000000',
    '--max-connections-per-address', '1000000');
  args.push(...(options.args ?? []));

  const child: ChildProcess = spawn(binaryPath, args, {
    cwd: os.tmpdir(), // never the source tree: nothing the server writes lands in the repo
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderrText = '';
  let stdoutText = '';
  child.stderr!.setEncoding('utf8');
  child.stdout!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderrText += chunk;
  });

  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      removeDataDir();
      resolve({ code, signal });
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => {
      fail(new Error(`server did not print its ready line within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    const fail = (err: Error) => {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(new Error(`${err.message}\nargs: ${args.join(' ')}\nstdout:\n${stdoutText}\nstderr:\n${stderrText}`));
    };
    child.stdout!.on('data', (chunk: string) => {
      stdoutText += chunk;
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, '');
        pending = pending.slice(nl + 1);
        const m = READY_LINE.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
          return;
        }
      }
    });
    child.once('error', (err) => fail(err));
    child.once('exit', (code, signal) => fail(new Error(`server exited before it was ready (code ${code}, signal ${signal})`)));
  });

  let stopping: Promise<ExitInfo> | undefined;
  const server: RunningServer = {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    pid: child.pid!,
    dataDir,
    stderr: () => stderrText,
    stdout: () => stdoutText,
    exited,
    signal(sig) {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          }, STOP_GRACE_MS);
          const info = await exited;
          clearTimeout(timer);
          running.delete(server);
          return info;
        }
        running.delete(server);
        return exited;
      })();
      return stopping;
    },
  };
  running.add(server);
  void exited.then(() => running.delete(server));
  return server;
}

/** Stops every server started by this process (the afterAll safety net). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

process.once('exit', () => {
  for (const s of running) {
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    if (path.basename(s.dataDir).startsWith('colloquy-test-data-')) rmSync(s.dataDir, { recursive: true, force: true });
  }
});
