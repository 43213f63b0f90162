/**
 * Platform figures, each beside its baseline in the same run:
 * - start-up and idle memory of the seven services run compiled (as `npm
 *   start` and the image run them) beside the same services under tsx
 *   (TypeScript compiled in the process, as before there was a build);
 * - `npm start` itself: from the command to the "Switchyard is running" line;
 * - GET /v1/system/status latency (gateway → monitor over NATS → PostgreSQL →
 *   reply) under a short load, beside bare Fastify and Fastify + one NATS
 *   round trip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { HEALTH_PORTS, SERVICE_NAMES, type ServiceName } from '@switchyard/contracts';
import { dropDatabase, portOpen, ROOT, type ServiceRuntime } from '@switchyard/kit/local';
import { freePort, startNatsServer, uniqueName } from '@switchyard/kit/testing';
import { startSystem, type IsolatedSystem } from '@switchyard/kit/testing/system';
import autocannon from 'autocannon';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
// V8's memory reducer gives start-up garbage back some 10-15 s after the last burst: idle means after that.
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 20);

const rssMiB = (pid: number) => {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : NaN;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Idle RSS: after IDLE_S seconds without traffic, the median of five readings a second apart (GC makes single readings jumpy). */
async function idleRss(sys: IsolatedSystem): Promise<Record<ServiceName, number>> {
  await sleep(IDLE_S * 1_000);
  const samples = new Map<ServiceName, number[]>();
  for (let i = 0; i < 5; i++) {
    for (const s of sys.services) samples.set(s.name, [...(samples.get(s.name) ?? []), rssMiB(s.child.pid!)]);
    await sleep(1_000);
  }
  return Object.fromEntries(SERVICE_NAMES.map((n) => [n, Math.round(median(samples.get(n)!))])) as Record<ServiceName, number>;
}

async function startUp(runtime: ServiceRuntime) {
  const began = performance.now();
  // Heartbeats as in production (the test system's default is 0.5 s).
  const sys = await startSystem({ name: `bench_${runtime}`, runtime, env: { LOG_LEVEL: 'warn', HEARTBEAT_INTERVAL_MS: '5000' } });
  const readyS = (performance.now() - began) / 1000;
  return { sys, readyS };
}

/** `npm start` as a user runs it (its own database and NATS), timed to the line that says it is running. */
async function npmStart(): Promise<number | string> {
  const busy = (await Promise.all([3000, ...Object.values(HEALTH_PORTS)].map((p) => portOpen('127.0.0.1', p)))).some(Boolean);
  if (busy) return 'skipped: ports 3000/9200-9206 are in use (is npm start running?)';
  const nats = await startNatsServer();
  const db = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard');
  db.pathname = `/${uniqueName('bench_npm_start')}`;
  const began = performance.now();
  // A process group of its own, so Ctrl-C can be played as a terminal plays it (to every process of the group).
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.toString(), NATS_URL: nats.url, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (l) => l.includes('Switchyard is running') && resolve(l));
      child.once('exit', (c) => reject(new Error(`npm start exited ${c}`)));
    });
    return `${((performance.now() - began) / 1000).toFixed(1)} s (it printed: "${line.trim()}")`;
  } finally {
    const exited = once(child, 'exit');
    process.kill(-child.pid!, 'SIGINT');
    await exited;
    await nats.dispose();
    await dropDatabase(db.toString()).catch(() => {});
  }
}

async function spawnReady(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('test', 'bench', 'baseline-server.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    rl.on('line', (l) => l === 'ready' && resolve());
    child.once('exit', (c) => reject(new Error(`baseline ${args[0]} exited ${c}`)));
  });
  return child;
}

async function load(name: string, url: string, headers: Record<string, string> = {}) {
  // A short warm-up so JIT and connection set-up are not in the figures.
  await autocannon({ url, headers, connections: CONNECTIONS, duration: 2 });
  const r = await autocannon({ url, headers, connections: CONNECTIONS, duration: DURATION_S });
  return {
    name,
    requests_per_s: Math.round(r.requests.average),
    // autocannon's percentiles are whole milliseconds; the mean keeps the fraction.
    mean_ms: Math.round(r.latency.mean * 100) / 100,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    errors: r.errors + r.non2xx,
  };
}

async function latency(sys: IsolatedSystem) {
  const bare = await freePort();
  const viaNats = await freePort();
  const children = [
    await spawnReady(['responder', sys.nats.url]),
    await spawnReady(['fastify', String(bare)]),
    await spawnReady(['fastify-nats', String(viaNats), sys.nats.url]),
  ];
  try {
    return [
      await load('bare Fastify (baseline)', `http://127.0.0.1:${bare}/`),
      await load('Fastify + 1 NATS request/reply', `http://127.0.0.1:${viaNats}/`),
      await load('gateway GET /v1/system/status', `${sys.api}/v1/system/status`, { authorization: `Bearer ${sys.adminKey}` }),
    ];
  } finally {
    for (const c of children) {
      c.kill('SIGTERM');
      await once(c, 'exit');
    }
  }
}

export async function run() {
  // tsx first, then compiled: one system at a time, so each has the machine to itself.
  const tsx = await startUp('tsx');
  const tsxRss = await idleRss(tsx.sys).finally(() => tsx.sys.stop());
  const compiled = await startUp('compiled');
  try {
    const compiledRss = await idleRss(compiled.sys);
    console.log(`\nStart to all seven ready (database, admin key, migrations, seven processes): tsx ${tsx.readyS.toFixed(1)} s, compiled ${compiled.readyS.toFixed(1)} s`);
    console.log(`\nIdle RSS per service (MiB, median of 5 readings after ${IDLE_S} s idle; target ≤ 100 compiled):`);
    console.table(SERVICE_NAMES.map((s) => ({ service: s, tsx: tsxRss[s], compiled: compiledRss[s], 'compiled vs tsx': `${Math.round((100 * compiledRss[s]) / tsxRss[s])}%` })));

    const rows = await latency(compiled.sys);
    const base = rows[0]!;
    console.log(`\nLatency under load: ${CONNECTIONS} connections, ${DURATION_S} s each`);
    console.table(
      rows.map((r) => ({
        ...r,
        'mean vs baseline': `${(r.mean_ms / Math.max(base.mean_ms, 0.01)).toFixed(1)}x`,
        'throughput vs baseline': `${((100 * r.requests_per_s) / base.requests_per_s).toFixed(1)}%`,
      })),
    );
    await compiled.sys.stop();
    console.log(`\nnpm start to "Switchyard is running" (target ≤ 5 s): ${await npmStart()}`);
    return { tsxReadyS: tsx.readyS, compiledReadyS: compiled.readyS, tsxRss, compiledRss, rows };
  } finally {
    await compiled.sys.stop();
  }
}
