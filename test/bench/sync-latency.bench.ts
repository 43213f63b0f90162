/**
 * Create → COMPLETED latency for a small database, over 50 integrations made
 * one after another through the API (validation, encryption, outbox, job,
 * discovery, snapshot, events). Beside it, in the same run: a bare connection
 * test plus discovery of the same database in this process — the floor.
 */
import { connect } from '@nats-io/transport-node';
import { discover, testConnection } from '@switchyard/connectors';
import { credentialFromUrl } from '@switchyard/connectors/testing';
import pg from 'pg';
import { DEFAULTS } from '@switchyard/kit/local';
import { startSystem } from '@switchyard/kit/testing/system';

const N = Number(process.env.BENCH_INTEGRATIONS ?? 50);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const row = (name: string, xs: number[]) => ({
  name,
  n: xs.length,
  p50_ms: Math.round(pct(xs, 50)),
  p99_ms: Math.round(pct(xs, 99)),
  max_ms: Math.round(Math.max(...xs)),
});

export async function run() {
  const local = new URL(process.env.DATABASE_URL ?? DEFAULTS.DATABASE_URL);
  const db = `bench_small_${Date.now()}`;
  const admin = new pg.Client({ connectionString: local.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const small = new URL(local.toString());
  small.pathname = `/${db}`;
  const c = new pg.Client({ connectionString: small.toString() });
  await c.connect();
  await c.query(`DO $$ BEGIN FOR i IN 1..10 LOOP
      EXECUTE format('CREATE TABLE t%s (id bigint PRIMARY KEY, code text UNIQUE, parent bigint REFERENCES t%s (id), note text)', i, i);
    END LOOP; END $$`);
  await c.end();
  const credential = credentialFromUrl(local, db, { sslmode: undefined });

  const sys = await startSystem({ name: 'bench_sync', env: { LOG_LEVEL: 'warn' } });
  const nc = await connect({ servers: sys.nats.url });
  try {
    const floor: number[] = [];
    for (let i = 0; i < N; i++) {
      const t = performance.now();
      await testConnection(credential, { timeoutMs: 5_000 });
      await discover(credential, {});
      floor.push(performance.now() - t);
    }

    // Completion is observed on the events.sync.completed announcement, not by polling.
    // An announcement may arrive before the create response is read: arrival times are kept.
    const arrived = new Map<string, number>();
    const waiting = new Map<string, () => void>();
    const sub = nc.subscribe('events.sync.completed', {
      callback: (_e, m) => {
        const id = m.json<{ data: { sync: { id: string } } }>().data.sync.id;
        arrived.set(id, performance.now());
        waiting.get(id)?.();
      },
    });
    await nc.flush();
    const latencies: number[] = [];
    for (let i = 0; i < N; i++) {
      const t = performance.now();
      const res = await fetch(`${sys.api}/v1/integrations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sys.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ integration_type: 'POSTGRESQL', name: `bench ${i}`, credential }),
      });
      const body = (await res.json()) as { sync: { id: string } };
      if (res.status !== 201) throw new Error(`create failed: ${JSON.stringify(body)}`);
      if (!arrived.has(body.sync.id))
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`sync ${body.sync.id} did not complete in 60 s`)), 60_000);
          waiting.set(body.sync.id, () => {
            clearTimeout(timer);
            resolve();
          });
        });
      latencies.push(arrived.get(body.sync.id)! - t);
    }
    sub.unsubscribe();
    console.log(`\nCreate → COMPLETED for a 10-table database, ${N} integrations one after another`);
    console.table([row('bare connection test + discovery (floor)', floor), row('POST /v1/integrations → sync COMPLETED', latencies)]);
    return { floor, latencies };
  } finally {
    await nc.close();
    await sys.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
}
