// The Colloquy benchmark against a Socket.IO peer (prints figures; the smoke run alone is pass/fail).
// Run through tests/load/bench.sh, which installs, builds and raises the open-file limit first:
//   tests/load/bench.sh <a|b|c|d|e|f|g|smoke|profile|all> [--runs N] [--seconds S]
// Each scenario starts the systems it compares, on loopback, one after another and alternating
// (Colloquy, Socket.IO, the floor, Colloquy, …), runs the load generator (loadgen.cpp) against
// each, stops every process by PID, and prints medians of the runs side by side with the ratio.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startRedis, type RunningRedis } from '../lib/redis.js';
import { repoRoot, startServer, type RunningServer } from '../lib/server.js';
import WebSocket from 'ws';

type Result = Record<string, number | string | null>;

const loadDir = path.join(repoRoot, 'tests', 'load');
const binDir = process.env.COLLOQUY_BENCH_BIN_DIR ?? path.join(repoRoot, 'build', 'load');
const loadgenBin = path.join(binDir, 'loadgen');
const floorBin = path.join(binDir, 'floor');
const peerScript = path.join(loadDir, 'peers', 'socketio', 'server.mjs');
const artifacts = path.join(repoRoot, 'tests', 'artifacts', 'bench');

// ---------------------------------------------------------------- arguments
const argv = process.argv.slice(2);
const scenario = argv[0] ?? '';
function flag(name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}
const runs = Number(flag('--runs') ?? process.env.COLLOQUY_BENCH_RUNS ?? 3);
const secondsOverride = flag('--seconds');
const profileMode = flag('--fsync') ?? 'always';
const profileRate = Number(flag('--rate') ?? 1500);

function seconds(defaultSeconds: number): string {
  return String(secondsOverride ?? defaultSeconds);
}

// ---------------------------------------------------------------- systems
interface System {
  name: string;
  kind: 'colloquy' | 'socketio';
  fsync?: 'always' | 'everysec';
  redis?: boolean;
  /** Redis servers the rooms are sharded over (Colloquy's --redis URL,URL); default 1. */
  shards?: number;
  instances?: number;
}

interface Running {
  ports: number[];
  pids: number[];
  auxPids: number[];
  redis: RunningRedis[];
  /** Lines the servers logged that say a journal compaction ran. */
  compactions(): number;
  stop(): Promise<void>;
}

const colloquy: System = { name: 'Colloquy', kind: 'colloquy', fsync: 'always' };
const socketio: System = { name: 'Socket.IO', kind: 'socketio' };

interface Peer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const livePeers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of livePeers) c.kill('SIGKILL');
});

function startPeer(name: string, redisUrl?: string): Promise<Peer> {
  const args = [peerScript, '--port', '0', '--name', name, ...(redisUrl ? ['--redis', redisUrl] : [])];
  const child = spawn(process.execPath, args, { cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'inherit'] });
  livePeers.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the Socket.IO peer did not print its ready line within 10 s'));
    }, 10_000);
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const m = /socketio listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        port: Number(m[1]),
        pid: child.pid!,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
            await exited;
            clearTimeout(kill);
          }
          livePeers.delete(child);
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the Socket.IO peer exited (code ${code}) before it was ready`));
    });
  });
}

async function startSystem(sys: System): Promise<Running> {
  const instances = sys.instances ?? 1;
  const redis: RunningRedis[] = [];
  const stopRedis = () => Promise.all(redis.map((r) => r.stop()));
  try {
    for (let i = 0; i < (sys.redis ? (sys.shards ?? 1) : 0); i++) redis.push(await startRedis());
    const urls = redis.map((r) => r.url).join(',');
    if (sys.kind === 'colloquy') {
      const args = sys.redis ? ['--redis', urls] : ['--fsync', sys.fsync ?? 'always'];
      const servers: RunningServer[] = [];
      for (let i = 0; i < instances; i++) servers.push(await startServer({ args: [...args, '--max-rooms', '100000', '--max-connections', '1000000', '--max-connections-per-address', '1000000',
        '--room-creations-per-hour', '1000000', '--max-http-requests-per-second', '1000000'] }));
      return {
        ports: servers.map((s) => s.port),
        pids: servers.map((s) => s.pid),
        auxPids: redis.map((r) => r.pid),
        redis,
        compactions: () => servers.reduce((n, s) => n + (s.stderr().match(/journal compacted/g)?.length ?? 0), 0),
        stop: async () => {
          await Promise.all(servers.map((s) => s.stop()));
          await stopRedis();
        },
      };
    }
    const peers: Peer[] = [];
    for (let i = 0; i < instances; i++) peers.push(await startPeer(String.fromCharCode(97 + i), redis[0]?.url));
    return {
      ports: peers.map((p) => p.port),
      pids: peers.map((p) => p.pid),
      auxPids: redis.map((r) => r.pid),
      redis,
      compactions: () => 0,
      stop: async () => {
        await Promise.all(peers.map((p) => p.stop()));
        await stopRedis();
      },
    };
  } catch (err) {
    await stopRedis();
    throw err;
  }
}

// ---------------------------------------------------------------- running the tools
function runTool(bin: string, args: string[], timeoutMs: number, onStderr?: (text: string) => void): Promise<Result[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (c: string) => (out += c));
    child.stderr.on('data', (c: string) => {
      err += c;
      onStderr?.(c);
      for (const line of c.split('\n')) if (line.trim()) process.stderr.write(`    ${line}\n`);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${path.basename(bin)} ${args.join(' ')}: exit ${code ?? signal}\n${err}`));
      resolve(out.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as Result));
    });
  });
}

function loadavg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** fdatasync of small appends where the servers keep their data (the OS temporary directory). */
function fsyncProbe(count = 200): { p50: number; p99: number } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-bench-fsync-'));
  const fd = openSync(path.join(dir, 'probe'), 'a');
  const buf = Buffer.alloc(300, 120);
  const ms: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      writeSync(fd, buf);
      const t = performance.now();
      fdatasyncSync(fd);
      ms.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(count / 2)]!, p99: ms[Math.floor(count * 0.99)]! };
}

const rawLog: unknown[] = [];
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
/** Every result as it comes (a long run interrupted keeps what it measured). */
function keep(entry: unknown): void {
  rawLog.push(entry);
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(path.join(artifacts, `${scenario}-${stamp}.json`), JSON.stringify(rawLog, null, 1));
}

/** Starts `sys`, runs the load generator against it, stops it; the last result line, annotated. */
async function measure(sys: System, loadgenArgs: string[], timeoutMs = 600_000, probes = 200): Promise<Result[]> {
  const load = loadavg();
  const disk = fsyncProbe(probes);
  const details = [sys.redis && !/redis/i.test(sys.name) ? 'Redis' : '', (sys.instances ?? 1) > 1 ? `×${sys.instances}` : '',
    sys.kind === 'colloquy' && !sys.redis && !sys.name.includes('--fsync') ? `--fsync ${sys.fsync}` : ''].filter(Boolean).join(' ');
  process.stderr.write(`  ${sys.name}${details ? ` (${details})` : ''}: load average ${load}, ` +
    `fdatasync p50 ${disk.p50.toFixed(2)} ms, p99 ${disk.p99.toFixed(2)} ms\n`);
  const running = await startSystem(sys);
  try {
    const results = await runTool(loadgenBin, [
      '--proto', sys.kind,
      '--target', running.ports.map((p) => `127.0.0.1:${p}`).join(','),
      '--pids', running.pids.join(','),
      ...(running.auxPids.length ? ['--aux-pids', running.auxPids.join(',')] : []),
      '--label', sys.name,
      ...loadgenArgs,
    ], timeoutMs);
    for (const r of results) {
      r.system = sys.name;
      r.loadavg_before = load;
      r.fsync_p50_ms = disk.p50;
      r.fsync_p99_ms = disk.p99;
      r.compactions = running.compactions();
    }
    keep({ system: sys, args: loadgenArgs, results });
    return results;
  } finally {
    await running.stop();
  }
}

async function floor(args: string[]): Promise<Result> {
  const [r] = await runTool(floorBin, args, 120_000);
  keep({ system: 'floor', args, results: [r] });
  return r!;
}

// ---------------------------------------------------------------- figures
function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function num(r: Result | undefined, key: string): number {
  const v = r?.[key];
  // A latency percentile that falls among deliveries that never came (within the drain).
  if (v === null && /_ms$/.test(key) && typeof r?.undelivered === 'number' && r.undelivered > 0) return Infinity;
  return typeof v === 'number' ? v : NaN;
}

function fmt(x: number): string {
  if (x === Infinity) return 'not delivered';
  if (!Number.isFinite(x)) return '–';
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** A duration for a sentence: "12.3 ms", or "not delivered" when it never came. */
function ms(x: number): string {
  return x === Infinity ? 'not delivered within the drain' : `${fmt(x)} ms`;
}

function cell(values: number[]): string {
  const finite = values.filter((x) => !Number.isNaN(x));
  if (finite.length === 0) return '–';
  const m = fmt(median(finite));
  const [lo, hi] = [Math.min(...finite), Math.max(...finite)];
  return finite.length > 1 && lo !== hi ? `${m} (${fmt(lo)}–${fmt(hi)})` : m;
}

interface Row {
  label: string;
  /** Per column: the values of every run. */
  values: number[][];
  /** Which direction is better, for the reader. */
  better?: 'higher' | 'lower';
}

/** A Markdown table: one column per system, medians (min–max) and the ratio of the first two. */
function table(title: string, columns: string[], rows: Row[]): string {
  const ratio = columns.length >= 2;
  const head = `| ${['measure', ...columns, ...(ratio ? [`${columns[0]} ÷ ${columns[1]}`] : [])].join(' | ')} |`;
  const sep = `| ${['---', ...columns.map(() => '---'), ...(ratio ? ['---'] : [])].join(' | ')} |`;
  const lines = rows.map((row) => {
    const cells = row.values.map(cell);
    const r = median(row.values[0]!) / median(row.values[1] ?? []);
    const ratioCell = ratio ? [Number.isFinite(r) ? `${r.toFixed(2)}×` : '–'] : [];
    const label = row.better ? `${row.label} (${row.better} is better)` : row.label;
    return `| ${[label, ...cells, ...ratioCell].join(' | ')} |`;
  });
  return `\n${title}\n\n${head}\n${sep}\n${lines.join('\n')}\n`;
}

const report: string[] = [];
function print(text: string): void {
  report.push(text);
  process.stdout.write(`${text}\n`);
}

function target(text: string, met: boolean | undefined): void {
  print(`- target (issue 8, item 9): ${text}: ${met === undefined ? 'not measured' : met ? '**met**' : '**not met**'}`);
}

function health(results: Result[][]): void {
  const bad = results.flat().filter((r) => num(r, 'complete') === 0 || num(r, 'seq_gaps') > 0 || num(r, 'seq_dups') > 0 ||
    num(r, 'order_violations') > 0 || num(r, 'errors') > 0 || num(r, 'closes') > 0 || num(r, 'skipped') > 0);
  for (const r of bad) {
    print(`- note: ${r.system} ${r.kind} at ${fmt(num(r, 'rate'))} commands/s: complete ${r.complete}, missing ${fmt(num(r, 'missing'))}, ` +
      `gaps ${r.seq_gaps}, dups ${r.seq_dups}, order ${r.order_violations}, errors ${r.errors} (${r.first_error ?? ''}), ` +
      `closes ${r.closes}, skipped ${r.skipped}`);
  }
  const busy = results.flat().filter((r) => num(r, 'loadgen_cores') > 0.85);
  if (busy.length) print(`- WARNING: the load generator was near a full core in ${busy.length} window(s): those figures may be limited by it`);
}

// ---------------------------------------------------------------- scenarios
const FRAME_BYTES = 124; // a Colloquy hand event frame as measured by the load generator (≈ 120 B + header)

async function alternate(systems: System[], loadgenArgs: string[], floorArgs?: string[]): Promise<{ results: Result[][][]; floors: Result[] }> {
  const results: Result[][][] = systems.map(() => []);
  const floors: Result[] = [];
  for (let run = 1; run <= runs; run++) {
    process.stderr.write(`run ${run} of ${runs}\n`);
    for (const [i, sys] of systems.entries()) results[i]!.push(await measure(sys, loadgenArgs));
    if (floorArgs) floors.push(await floor(floorArgs));
  }
  return { results, floors };
}

const last = (rs: Result[], kind: string) => rs.filter((r) => r.kind === kind).at(-1);

function header(text: string, medians = true): void {
  print(`\n### ${text}`);
  print(`${new Date().toISOString().slice(0, 10)}, ${gitCommit()}, ${os.cpus().length} cores` +
    `${medians ? `, medians of ${runs} alternating runs (min–max)` : ''}; load average before the scenario ${loadavg()}`);
}

function gitCommit(): string {
  try {
    return `commit ${execFileSync('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}`;
  } catch {
    return 'unknown commit';
  }
}

async function scenarioA(): Promise<void> {
  header('(a) 1,000 rooms × 15 members, 1,500 events/s');
  const args = ['--mode', 'fanout', '--rooms', '1000', '--members', '15', '--rate', '1500', '--seconds', seconds(30), '--warmup', '2'];
  const floorArgs = ['--sockets', '15000', '--bytes', String(FRAME_BYTES), '--rate', '22500', '--seconds', '5'];
  const { results, floors } = await alternate([colloquy, socketio], args, floorArgs);
  const get = (key: string) => results.map((runsOf) => runsOf.map((rs) => num(last(rs, 'fanout'), key)));
  print(table('', ['Colloquy', 'Socket.IO'], [
    { label: 'deliveries per server CPU-second', values: get('deliveries_per_cpu_s'), better: 'higher' },
    { label: 'server CPU µs per delivery', values: get('cpu_us_per_delivery'), better: 'lower' },
    { label: 'delivery p50 (ms)', values: get('p50_ms'), better: 'lower' },
    { label: 'delivery p99 (ms)', values: get('p99_ms'), better: 'lower' },
    { label: 'delivery p99.9 (ms)', values: get('p999_ms'), better: 'lower' },
    { label: 'deliveries/s', values: get('deliveries_per_s') },
    { label: 'server cores busy', values: get('server_cores') },
    { label: 'journal compactions in the run', values: get('compactions') },
    { label: 'load generator cores busy', values: get('loadgen_cores') },
    { label: 'other processes’ cores busy meanwhile', values: get('others_cores') },
    { label: 'disk: fdatasync p50 before the run (ms)', values: get('fsync_p50_ms') },
  ]));
  const floorUs = median(floors.map((f) => num(f, 'us_per_write')));
  const cUs = median(get('cpu_us_per_delivery')[0]!);
  print(`- floor (g), same run: one ${FRAME_BYTES}-byte sendmsg to each of 15,000 loopback sockets at 22,500/s: ${fmt(floorUs)} µs CPU per write ` +
    `(${floors.map((f) => fmt(num(f, 'us_per_write'))).join(', ')})`);
  target(`server CPU per delivery within 1.5× of the floor: ${fmt(cUs)} µs = ${fmt(cUs / floorUs)}× the floor`, Number.isNaN(cUs) ? undefined : cUs <= 1.5 * floorUs);
  const p99 = median(get('p99_ms')[0]!);
  target(`p99 < 5 ms (compactions included): ${ms(p99)}`, Number.isNaN(p99) ? undefined : p99 < 5);
  health(results.flat());
}

async function scenarioB(): Promise<void> {
  header('(b) the knee: the rate raised until p99 passes 50 ms (1,000 rooms × 15 members)');
  const systems: System[] = [
    { name: 'Colloquy --fsync always', kind: 'colloquy', fsync: 'always' },
    { name: 'Colloquy --fsync everysec', kind: 'colloquy', fsync: 'everysec' },
    { name: 'Colloquy --redis', kind: 'colloquy', redis: true },
    { name: 'Socket.IO', kind: 'socketio' },
    { name: 'Socket.IO + Redis adapter', kind: 'socketio', redis: true },
  ];
  const args = ['--mode', 'knee', '--rooms', '1000', '--members', '15', '--rate', flag('--start') ?? '750', '--factor', '1.5',
    '--refine', '2', '--seconds', seconds(5), '--warmup', '1', '--drain', '20', '--p99-limit', '50'];
  const floorArgs = ['--sockets', '15000', '--bytes', String(FRAME_BYTES), '--rate', '0', '--seconds', '5'];
  const { results, floors } = await alternate(systems, args, floorArgs);
  const knee = (i: number, key: string) => results[i]!.map((rs) => num(last(rs, 'knee'), key));
  const floorUs = median(floors.map((f) => num(f, 'us_per_write')));
  const rows = systems.map((s, i) => `| ${s.name} | ${cell(knee(i, 'rate'))} | ${cell(knee(i, 'deliveries_per_s'))} | ` +
    `${cell(knee(i, 'deliveries_per_cpu_s'))} | ${cell(knee(i, 'deliveries_per_cpu_s_with_aux'))} | ${cell(knee(i, 'cpu_us_per_delivery'))} | ` +
    `${fmt(median(knee(i, 'cpu_us_per_delivery')) / floorUs)}× | ${cell(knee(i, 'p99_ms'))} | ${cell(knee(i, 'server_cores'))} | ` +
    `${cell(knee(i, 'loadgen_cores'))} | ${cell(knee(i, 'others_cores'))} | ${cell(results[i]!.map((rs) => num(rs[0], 'fsync_p50_ms')))} |`);
  print(`\n| system | events/s at the knee | deliveries/s | per server CPU-s | per CPU-s with Redis | CPU µs per delivery | ÷ floor | p99 (ms) | ` +
    `server cores | load generator cores | others' cores | fdatasync p50 (ms) |\n` +
    `| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n${rows.join('\n')}`);
  const ratio = (i: number, j: number) => median(knee(i, 'deliveries_per_cpu_s')) / median(knee(j, 'deliveries_per_cpu_s'));
  print(`\n- ratios of deliveries per server CPU-second: Colloquy always ÷ Socket.IO ${fmt(ratio(0, 3))}×, everysec ÷ Socket.IO ${fmt(ratio(1, 3))}×, ` +
    `Colloquy --redis ÷ Socket.IO + Redis adapter ${fmt(ratio(2, 4))}×`);
  print(`- floor (g), same run: ${FRAME_BYTES}-byte sendmsg to 15,000 loopback sockets, flat out: ${fmt(floorUs)} µs CPU per write`);
  for (const i of [0, 1, 2]) {
    const us = median(knee(i, 'cpu_us_per_delivery'));
    target(`${systems[i]!.name}: CPU per delivery at the knee within 1.5× of the floor: ${fmt(us / floorUs)}×`, Number.isNaN(us) ? undefined : us <= 1.5 * floorUs);
  }
  health(results.flat().map((rs) => rs.filter((r) => r.kind === 'knee')));
}

async function scenarioC(): Promise<void> {
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  // The server and the load generator each hold one descriptor per connection, plus a few.
  let connections = 10_000;
  if (Number.isFinite(limit) && limit < connections + 200) {
    connections = Math.floor((limit - 200) / 10) * 10;
    print(`- the open-file limit is ${limit}: 10,000 connections do not fit; measuring ${connections}`);
  }
  header(`(c) ${connections.toLocaleString('en-US')} idle joined connections (${connections / 10} rooms × 10)`);
  const args = ['--mode', 'idle', '--rooms', String(connections / 10), '--members', '10', '--seconds', seconds(5)];
  const { results } = await alternate([colloquy, socketio], args);
  const get = (key: string) => results.map((runsOf) => runsOf.map((rs) => num(last(rs, 'idle'), key)));
  print(table('', ['Colloquy', 'Socket.IO'], [
    { label: 'resident memory per connection (KiB; RSS delta after the rooms exist)', values: get('kib_per_connection'), better: 'lower' },
    { label: 'the same, rooms included (KiB)', values: get('kib_per_connection_with_rooms'), better: 'lower' },
    { label: 'RSS with every connection joined (MiB)', values: get('rss_joined_kib').map((v) => v.map((x) => x / 1024)) },
  ]));
  const kib = median(get('kib_per_connection')[0]!);
  target(`≤ 4 KiB per idle joined connection: ${fmt(kib)} KiB`, Number.isNaN(kib) ? undefined : kib <= 4);
}

async function scenarioD(): Promise<void> {
  header('(d) two instances + Redis: added latency across instances (200 rooms × 10 members, half on each instance, 200 events/s)');
  const systems: System[] = [
    { name: 'Colloquy', kind: 'colloquy', redis: true, instances: 2 },
    { name: 'Socket.IO', kind: 'socketio', redis: true, instances: 2 },
  ];
  const args = ['--mode', 'fanout', '--rooms', '200', '--members', '10', '--spread', 'members', '--rate', '200', '--seconds', seconds(20), '--warmup', '2'];
  const { results } = await alternate(systems, args);
  const get = (key: string) => results.map((runsOf) => runsOf.map((rs) => num(last(rs, 'fanout'), key)));
  const added = (q: string) => results.map((runsOf) => runsOf.map((rs) => num(last(rs, 'fanout'), `cross_${q}_ms`) - num(last(rs, 'fanout'), `same_${q}_ms`)));
  print(table('', ['Colloquy', 'Socket.IO'], [
    { label: 'added latency p50 (ms; cross-instance − same-instance)', values: added('p50'), better: 'lower' },
    { label: 'added latency p99 (ms)', values: added('p99'), better: 'lower' },
    { label: 'same-instance p50 (ms)', values: get('same_p50_ms') },
    { label: 'same-instance p99 (ms)', values: get('same_p99_ms') },
    { label: 'cross-instance p50 (ms)', values: get('cross_p50_ms') },
    { label: 'cross-instance p99 (ms)', values: get('cross_p99_ms') },
    { label: 'cross-instance max (ms)', values: get('cross_max_ms') },
    { label: 'deliveries per server CPU-second (both instances)', values: get('deliveries_per_cpu_s'), better: 'higher' },
    { label: 'the same with redis-server’s CPU', values: get('deliveries_per_cpu_s_with_aux'), better: 'higher' },
  ]));
  health(results.flat());
}

async function scenarioE(): Promise<void> {
  header('(e) 5,000 clients dropped at once and resuming (500 rooms × 10; Colloquy: resume token + after; Socket.IO: reconnect + rejoin)');
  const args = ['--mode', 'resume', '--rooms', '500', '--members', '10', '--window', '256'];
  const { results } = await alternate([colloquy, socketio], args);
  const get = (key: string) => results.map((runsOf) => runsOf.map((rs) => num(last(rs, 'resume'), key)));
  print(table('', ['Colloquy', 'Socket.IO'], [
    { label: 'time until all 5,000 are back: join reply (ms)', values: get('all_back_ms'), better: 'lower' },
    { label: 'time until all have caught up: replayed events received (ms)', values: get('all_caught_up_ms'), better: 'lower' },
    { label: 'per client, back after p50 (ms)', values: get('back_p50_ms') },
    { label: 'per client, back after p99 (ms)', values: get('back_p99_ms') },
    { label: 'server CPU seconds until all back', values: get('server_cpu_s'), better: 'lower' },
  ]));
  const all = median(get('all_caught_up_ms')[0]!);
  target(`5,000 clients dropped at once all resumed within 2 s: ${ms(all)}`, Number.isNaN(all) ? undefined : all <= 2000);
  print('- the load generator reconnects every client at once, at most 256 handshakes in flight (so no accept queue overflows)');
  health(results.flat());
}

async function scenarioF(): Promise<void> {
  header('(f) busy rooms: 50 rooms × 20 members, each member 10 changes a second (10,000 events/s, 200,000 deliveries/s offered)');
  const args = ['--mode', 'fanout', '--rooms', '50', '--members', '20', '--rate', '10000', '--seconds', seconds(10), '--warmup', '2', '--drain', '30'];
  const { results, floors } = await alternate([colloquy, socketio], args, ['--sockets', '1000', '--bytes', String(FRAME_BYTES), '--k', '1', '--seconds', '5']);
  const get = (key: string) => results.map((runsOf) => runsOf.map((rs) => num(last(rs, 'fanout'), key)));
  print(table('', ['Colloquy', 'Socket.IO'], [
    { label: 'deliveries per server CPU-second', values: get('deliveries_per_cpu_s'), better: 'higher' },
    { label: 'deliveries/s achieved', values: get('deliveries_per_s'), better: 'higher' },
    { label: 'delivery p50 (ms)', values: get('p50_ms'), better: 'lower' },
    { label: 'delivery p99 (ms)', values: get('p99_ms'), better: 'lower' },
    { label: 'server cores busy', values: get('server_cores') },
    { label: 'seconds to drain after the window', values: get('drain_s') },
    { label: 'load generator cores busy', values: get('loadgen_cores') },
    { label: 'other processes’ cores busy meanwhile', values: get('others_cores') },
  ]));
  const floorUs = median(floors.map((f) => num(f, 'us_per_frame')));
  print(`- floor (g), same run: ${FRAME_BYTES}-byte sendmsg to 1,000 loopback sockets, one frame each, flat out: ${fmt(floorUs)} µs CPU per frame`);
  const ratio = median(get('deliveries_per_cpu_s')[0]!) / median(get('deliveries_per_cpu_s')[1]!);
  const p99 = median(get('p99_ms')[0]!);
  target(`≥ 5× Socket.IO's deliveries per CPU-second: ${fmt(ratio)}×`, Number.isNaN(ratio) ? undefined : ratio >= 5);
  target(`p99 < 20 ms: ${ms(p99)}`, Number.isNaN(p99) ? undefined : p99 < 20);
  health(results.flat());
}

async function scenarioG(): Promise<void> {
  header(`(g) the floor: ${FRAME_BYTES}-byte frames written to loopback TCP sockets by a minimal C++ program`);
  const configs: { label: string; args: string[] }[] = [
    { label: '15,000 sockets, 22,500 frames/s (as (a)), one frame per sendmsg', args: ['--sockets', '15000', '--rate', '22500'] },
    { label: '15,000 sockets, flat out, one frame per sendmsg (as the knee)', args: ['--sockets', '15000', '--rate', '0'] },
    { label: '1,000 sockets, flat out, one frame per sendmsg (as (f), unmerged)', args: ['--sockets', '1000', '--rate', '0'] },
    { label: '1,000 sockets, flat out, 4 frames per sendmsg (merged)', args: ['--sockets', '1000', '--rate', '0', '--k', '4'] },
    { label: '1,000 sockets, flat out, 16 frames per sendmsg (merged)', args: ['--sockets', '1000', '--rate', '0', '--k', '16'] },
  ];
  const values: Result[][] = configs.map(() => []);
  for (let run = 1; run <= runs; run++) {
    for (const [i, c] of configs.entries()) values[i]!.push(await floor([...c.args, '--bytes', String(FRAME_BYTES), '--seconds', seconds(5)]));
  }
  const rows = configs.map((c, i) => `| ${c.label} | ${cell(values[i]!.map((r) => num(r, 'us_per_write')))} | ` +
    `${cell(values[i]!.map((r) => num(r, 'us_per_frame')))} | ${cell(values[i]!.map((r) => num(r, 'reader_us_per_frame')))} | ` +
    `${cell(values[i]!.map((r) => num(r, 'frames_per_s')))} |`);
  print(`\n| configuration | writer CPU µs per sendmsg | writer CPU µs per frame | reader CPU µs per frame | frames/s |\n| --- | --- | --- | --- | --- |\n${rows.join('\n')}`);
}

/** A few seconds: every delivery complete and in order on both servers, one and two instances. */
async function smoke(): Promise<boolean> {
  const cases: { sys: System; args: string[] }[] = [];
  const fan = ['--mode', 'fanout', '--rooms', '20', '--members', '5', '--rate', '200', '--seconds', '1.5', '--warmup', '0.5', '--drain', '10'];
  const resume = ['--mode', 'resume', '--rooms', '10', '--members', '5', '--setup-timeout', '20'];
  for (const sys of [colloquy, socketio]) {
    cases.push({ sys, args: fan });
    cases.push({ sys: { ...sys, redis: true, instances: 2 }, args: [...fan, '--spread', 'members'] });
  }
  cases.push({ sys: colloquy, args: resume }); // resume token + after: the replay complete and in order
  let ok = true;
  for (const { sys, args } of cases) {
    const [r] = await measure(sys, [...args, '--setup-timeout', '20'], 60_000, 10);
    const what = `${sys.name}${sys.redis ? ` ×${sys.instances} + Redis` : ''} ${r?.kind}`;
    const problems: string[] = [];
    if (!r) problems.push('no result');
    else if (r.kind === 'fanout') {
      if (num(r, 'complete') !== 1 || num(r, 'missing') !== 0) problems.push(`incomplete (${r.missing} deliveries missing)`);
      if (num(r, 'deliveries') <= 0) problems.push('no deliveries');
      for (const key of ['seq_gaps', 'seq_dups', 'order_violations', 'unknown_sender', 'errors', 'closes', 'skipped']) {
        if (num(r, key) !== 0) problems.push(`${key} ${r[key]}`);
      }
    } else if (num(r, 'all_back') !== 1 || !Number.isFinite(num(r, 'all_caught_up_ms')) || num(r, 'seq_gaps') !== 0 ||
      num(r, 'seq_dups') !== 0 || num(r, 'errors') !== 0) {
      problems.push(`resume: back ${r.back} of ${r.clients}, gaps ${r.seq_gaps}, dups ${r.seq_dups}, errors ${r.errors}`);
    }
    if (r?.first_violation) problems.push(`first: ${r.first_violation}`);
    const figures = r?.kind === 'fanout' ? `${fmt(num(r, 'deliveries'))} deliveries, p99 ${fmt(num(r, 'p99_ms'))} ms` : `all back in ${fmt(num(r, 'all_caught_up_ms'))} ms`;
    print(`${problems.length ? 'FAIL' : 'ok  '} ${what}: ${figures}${problems.length ? `: ${problems.join('; ')}` : ''}`);
    if (problems.length) ok = false;
  }
  return ok;
}

/** Asks GET /healthz and a WebSocket `ping` of one instance every 50 ms, one at a time each. */
function startProber(port: number) {
  const worst = { healthz: 0, ping: 0 };
  const inFlight = { healthz: 0, ping: 0 };
  const windows: { healthz: number; ping: number }[] = [];
  let stopped = false;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  let pingId = 0;
  let welcomed = false;
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as { type: string; id?: string };
    if (msg.type === 'welcome') welcomed = true;
    if ((msg.type === 'reply' || msg.type === 'error') && msg.id === `p${pingId}`) {
      worst.ping = Math.max(worst.ping, performance.now() - inFlight.ping);
      inFlight.ping = 0;
    }
  });
  ws.on('error', () => {});
  const tick = setInterval(() => {
    if (stopped) return;
    const now = performance.now();
    // An answer still outstanding counts for as long as it has been waited for.
    if (inFlight.healthz) worst.healthz = Math.max(worst.healthz, now - inFlight.healthz);
    if (inFlight.ping) worst.ping = Math.max(worst.ping, now - inFlight.ping);
    if (!inFlight.healthz) {
      inFlight.healthz = now;
      const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
        res.resume();
        res.once('end', () => {
          worst.healthz = Math.max(worst.healthz, performance.now() - inFlight.healthz);
          inFlight.healthz = 0;
        });
      });
      req.on('error', () => (inFlight.healthz = 0));
    }
    if (!inFlight.ping && welcomed) {
      inFlight.ping = now;
      ws.send(JSON.stringify({ type: 'ping', id: `p${++pingId}` }));
    }
  }, 50);
  return {
    /** The worst answer times since the last mark, kept as one window. */
    mark(): void {
      windows.push({ ...worst });
      worst.healthz = 0;
      worst.ping = 0;
    },
    windows,
    stop(): void {
      stopped = true;
      clearInterval(tick);
      ws.terminate();
    },
  };
}

/** Rooms with keys in one Redis server (distinct hash tags {room}). */
async function roomsIn(redis: RunningRedis): Promise<number> {
  const keys = await redis.cli('--scan');
  return new Set(keys.split('\n').map((k) => /\{([^}]+)\}/.exec(k)?.[1]).filter(Boolean)).size;
}

/** (h) one Redis shard of two frozen for 5 s (SIGSTOP): health, ping and the other shard's rooms. */
async function scenarioH(): Promise<void> {
  header('(h) Redis frozen: two instances, rooms sharded over two Redis servers, one frozen 5 s (SIGSTOP) under 400 events/s in 40 rooms × 5');
  const sys: System = { name: 'Colloquy', kind: 'colloquy', redis: true, shards: 2, instances: 2 };
  const rows: Result[] = [];
  for (let run = 1; run <= runs; run++) {
    process.stderr.write(`run ${run} of ${runs}: load average ${loadavg()}\n`);
    const running = await startSystem(sys);
    const probers = running.ports.map((p) => startProber(p));
    const frozen = running.redis[1]!;
    try {
      let setupDone: () => void = () => {};
      const ready = new Promise<void>((r) => (setupDone = r));
      const gen = runTool(loadgenBin, ['--proto', 'colloquy', '--target', running.ports.map((p) => `127.0.0.1:${p}`).join(','),
        '--pids', running.pids.join(','), '--aux-pids', running.auxPids.join(','), '--mode', 'fanout', '--rooms', '40', '--members', '5',
        '--rate', '400', '--warmup', '1', '--seconds', '12', '--drain', '15'], 300_000, (text) => {
        if (text.includes('setup done')) setupDone();
      });
      await Promise.race([ready, gen]);
      await new Promise((r) => setTimeout(r, 3000));
      for (const p of probers) p.mark(); // before the freeze
      process.kill(frozen.pid, 'SIGSTOP');
      try {
        await new Promise((r) => setTimeout(r, 5000));
      } finally {
        process.kill(frozen.pid, 'SIGCONT');
      }
      for (const p of probers) p.mark(); // during the freeze
      const [r] = await gen;
      for (const p of probers) p.mark(); // after
      const [healthy, stalledShard] = [await roomsIn(running.redis[0]!), await roomsIn(frozen)];
      rows.push({
        ...r!,
        healthz_during_ms: Math.max(...probers.map((p) => p.windows[1]!.healthz)),
        ping_during_ms: Math.max(...probers.map((p) => p.windows[1]!.ping)),
        healthz_before_ms: Math.max(...probers.map((p) => p.windows[0]!.healthz)),
        ping_before_ms: Math.max(...probers.map((p) => p.windows[0]!.ping)),
        rooms_healthy_shard: healthy,
        rooms_frozen_shard: stalledShard,
        rooms_carried_on: 40 - num(r, 'rooms_stalled_1s'),
      });
      keep({ system: sys, scenario: 'h', results: [rows.at(-1)] });
    } finally {
      for (const p of probers) p.stop();
      await running.stop();
    }
  }
  const get = (key: string) => [rows.map((r) => num(r, key))];
  print(table('', ['Colloquy'], [
    { label: 'slowest /healthz answer during the freeze, any instance (ms)', values: get('healthz_during_ms'), better: 'lower' },
    { label: 'slowest WebSocket ping answer during the freeze, any instance (ms)', values: get('ping_during_ms'), better: 'lower' },
    { label: 'slowest /healthz answer in the 3 s before the freeze (ms)', values: get('healthz_before_ms') },
    { label: 'slowest ping answer in the 3 s before the freeze (ms)', values: get('ping_before_ms') },
    { label: 'rooms on the Redis that stayed up', values: get('rooms_healthy_shard') },
    { label: 'rooms that went on (no 1 s without a delivery in the 12 s window)', values: get('rooms_carried_on'), better: 'higher' },
    { label: 'longest time a room went without a delivery (ms)', values: get('room_gap_max_ms') },
  ]));
  const worst = Math.max(median(get('healthz_during_ms')[0]!), median(get('ping_during_ms')[0]!));
  target(`ping and /healthz on every instance answer within 50 ms with Redis frozen 5 s: ${ms(worst)}`, Number.isNaN(worst) ? undefined : worst <= 50);
  const carried = median(get('rooms_carried_on')[0]!);
  const healthy = median(get('rooms_healthy_shard')[0]!);
  target(`rooms on the other Redis shard carry on: ${fmt(carried)} rooms went on, ${fmt(healthy)} are on the shard that stayed up`,
    Number.isNaN(carried) ? undefined : carried >= healthy);
  health([rows]);
}

/**
 * Sums a `perf report --children --sort symbol` into what a reader asks: time inside each kind of
 * system call (inclusive: the kernel work it causes, loopback delivery included) and time in each
 * library's own code (self).
 */
function whereTheTimeGoes(report: string): string {
  const rows: { children: number; self: number; kernel: boolean; symbol: string }[] = [];
  for (const line of report.split('\n')) {
    const m = /^\s+([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(.*?)(\s+-\s+-)?\s*$/.exec(line);
    if (m) rows.push({ children: Number(m[1]), self: Number(m[2]), kernel: m[3] === 'k', symbol: m[4]! });
  }
  const inclusive = (re: RegExp) => Math.max(0, ...rows.filter((r) => re.test(r.symbol)).map((r) => r.children));
  const self = (pred: (r: (typeof rows)[number]) => boolean) => rows.filter(pred).reduce((n, r) => n + r.self, 0);
  // The user-side wrapper or the kernel entry, whichever the samples' call chains reached more.
  const syscalls: [string, RegExp][] = [
    ['sendmsg / write / writev (frames to sockets; loopback receive included)', /^(__libc_sendmsg|__sys_sendmsg|ksys_write|__libc_write|__writev|do_writev)$/],
    ['recvmsg / read (commands from sockets)', /^(__libc_recvmsg|__sys_recvmsg|ksys_read|__libc_read)$/],
    ['fdatasync / fsync', /^(fdatasync|__GI_fdatasync|__libc_fdatasync|__x64_sys_fdatasync|do_fsync)$/],
    ['epoll_wait', /^(epoll_wait|do_epoll_wait)$/],
    ['futex (lock waits and wake-ups)', /^(__x64_sys_futex|do_futex)$/],
    ['all system calls together', /^(do_syscall_64|entry_SYSCALL_64_after_hwframe)$/],
  ];
  const libs: [string, (r: (typeof rows)[number]) => boolean][] = [
    ['kernel (self, all of it)', (r) => r.kernel],
    ['malloc / free', (r) => !r.kernel && /^(_int_malloc|malloc|_int_free|free|cfree|malloc_consolidate|__libc_malloc|__libc_free|operator new|operator delete|tcache)/.test(r.symbol)],
    ['Boost.Asio', (r) => !r.kernel && /asio::/.test(r.symbol)],
    ['Boost.Beast', (r) => !r.kernel && /beast::/.test(r.symbol)],
    ['nlohmann::json', (r) => !r.kernel && /nlohmann/.test(r.symbol)],
    ['Colloquy (hub, core, codec, log)', (r) => !r.kernel && /colloquy::/.test(r.symbol) && !/asio::|beast::|nlohmann/.test(r.symbol)],
    ['libc and libstdc++ (the rest: memcpy, strings, mutexes, …)', (r) => !r.kernel && !/asio::|beast::|nlohmann|colloquy::/.test(r.symbol) &&
      !/^(_int_malloc|malloc|_int_free|free|cfree|malloc_consolidate)/.test(r.symbol)],
  ];
  const top = rows.filter((r) => r.self >= 0.8).sort((a, b) => b.self - a.self).slice(0, 15);
  return [
    '\n| inside system calls (inclusive) | % of the server\'s CPU samples |\n| --- | --- |',
    ...syscalls.map(([label, re]) => `| ${label} | ${inclusive(re).toFixed(1)} |`),
    '\n| own code (self) | % |\n| --- | --- |',
    ...libs.map(([label, pred]) => `| ${label} | ${self(pred).toFixed(1)} |`),
    '\n| hottest symbols (self) | % |\n| --- | --- |',
    ...top.map((r) => `| \`${r.symbol.slice(0, 90).replace(/\|/g, '\\|')}\`${r.kernel ? ' (kernel)' : ''} | ${r.self.toFixed(1)} |`),
  ].join('\n');
}

/** perf at a given rate on one Colloquy instance: where the time goes. */
async function profile(): Promise<void> {
  const sys: System = { name: 'Colloquy', kind: 'colloquy', fsync: profileMode === 'everysec' ? 'everysec' : 'always' };
  header(`profile: Colloquy --fsync ${sys.fsync} at ${profileRate} events/s, 1,000 rooms × 15 members (perf, cpu-clock, call graphs)`, false);
  const running = await startSystem(sys);
  const data = path.join(artifacts, `perf-${sys.fsync}.data`);
  try {
    const window = Number(secondsOverride ?? 15);
    let setupDone: () => void = () => {};
    const ready = new Promise<void>((r) => (setupDone = r));
    const gen = runTool(loadgenBin, ['--proto', 'colloquy', '--target', `127.0.0.1:${running.ports[0]}`, '--pids', String(running.pids[0]),
      '--mode', 'fanout', '--rooms', '1000', '--members', '15', '--rate', String(profileRate), '--seconds', String(window + 4), '--warmup', '2'],
    600_000, (text) => {
      if (text.includes('setup done')) setupDone();
    });
    await Promise.race([ready, gen]);
    await new Promise((r) => setTimeout(r, 3000)); // the warm-up and the first second of the window
    execFileSync('perf', ['record', '-e', 'cpu-clock', '-F', '999', '-g', '-p', String(running.pids[0]), '-o', data, '--', 'sleep', String(window)],
      { stdio: ['ignore', 'ignore', 'inherit'] });
    const [r] = await gen;
    print(`- during the profile: ${fmt(num(r, 'deliveries_per_s'))} deliveries/s, ${fmt(num(r, 'deliveries_per_cpu_s'))} per CPU-s, p99 ${fmt(num(r, 'p99_ms'))} ms`);
    const report = execFileSync('perf', ['report', '-i', data, '--stdio', '--children', '--sort', 'symbol', '-g', 'none', '--percent-limit', '0.05'],
      { encoding: 'utf8', maxBuffer: 256 << 20 });
    writeFileSync(path.join(artifacts, `perf-${sys.fsync}.txt`), report);
    print(whereTheTimeGoes(report));
    print(`- the whole report: tests/artifacts/bench/perf-${sys.fsync}.txt; call graphs: perf report -i ${path.relative(repoRoot, data)}`);
  } finally {
    await running.stop();
  }
}

// ---------------------------------------------------------------- main
const scenarios: Record<string, () => Promise<unknown>> = {
  a: scenarioA, b: scenarioB, c: scenarioC, d: scenarioD, e: scenarioE, f: scenarioF, g: scenarioG, h: scenarioH, smoke, profile,
};

async function main(): Promise<number> {
  const chosen = scenario === 'all' ? ['g', 'a', 'f', 'c', 'd', 'e', 'h', 'b'] : [scenario];
  if (!chosen.every((s) => s in scenarios)) {
    process.stderr.write('usage: tests/load/bench.sh <a|b|c|d|e|f|g|h|smoke|profile|all> [--runs N] [--seconds S] [--rate R --fsync MODE (profile)] [--start R (b)]\n');
    return 64;
  }
  mkdirSync(artifacts, { recursive: true });
  let status = 0;
  try {
    for (const s of chosen) {
      const ok = await scenarios[s]!();
      if (ok === false) status = 1;
    }
  } finally {
    writeFileSync(path.join(artifacts, `${scenario}-${stamp}.md`), report.join('\n') + '\n');
  }
  return status;
}

process.exitCode = await main();
