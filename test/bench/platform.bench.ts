/**
 * Platform figures: time from start to all seven ready, idle RSS of each
 * service, and GET /v1/system/status latency (gateway → monitor over NATS →
 * PostgreSQL → reply) under a short load, beside bare Fastify and Fastify +
 * one NATS round trip measured in the same run on the same machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { ROOT } from '@switchyard/kit/local';
import { freePort } from '@switchyard/kit/testing';
import { startSystem } from '@switchyard/kit/testing/system';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

const rssMiB = (pid: number) => {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : NaN;
};

async function spawnReady(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/baseline-server.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
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

export async function run() {
  const began = performance.now();
  const sys = await startSystem({ name: 'bench', env: { LOG_LEVEL: 'warn' } });
  const readyS = (performance.now() - began) / 1000;
  try {
    // Idle: let start-up garbage settle before reading RSS.
    await new Promise((r) => setTimeout(r, 5_000));
    const rss = Object.fromEntries(sys.services.map((s) => [s.name, Math.round(rssMiB(s.child.pid!))]));

    const bare = await freePort();
    const viaNats = await freePort();
    const children = [
      await spawnReady(['responder', sys.nats.url]),
      await spawnReady(['fastify', String(bare)]),
      await spawnReady(['fastify-nats', String(viaNats), sys.nats.url]),
    ];
    try {
      const rows = [
        await load('bare Fastify (baseline)', `http://127.0.0.1:${bare}/`),
        await load('Fastify + 1 NATS request/reply', `http://127.0.0.1:${viaNats}/`),
        await load('gateway GET /v1/system/status', `${sys.api}/v1/system/status`, { authorization: `Bearer ${sys.adminKey}` }),
      ];
      const base = rows[0]!;
      console.log(`\nStart to all seven ready: ${readyS.toFixed(1)} s (includes database creation, admin key and migrations)`);
      console.log('\nIdle RSS per service (MiB):');
      console.table(rss);
      console.log(`\nLatency under load: ${CONNECTIONS} connections, ${DURATION_S} s each`);
      console.table(
        rows.map((r) => ({
          ...r,
          'mean vs baseline': `${(r.mean_ms / Math.max(base.mean_ms, 0.01)).toFixed(1)}x`,
          'throughput vs baseline': `${((100 * r.requests_per_s) / base.requests_per_s).toFixed(1)}%`,
        })),
      );
      return { readyS, rss, rows };
    } finally {
      for (const c of children) {
        c.kill('SIGTERM');
        await once(c, 'exit');
      }
    }
  } finally {
    await sys.stop();
  }
}
