/**
 * A fuzzer over every operation of the gateway's OpenAPI document, against
 * the seven services as processes: no request, however wrong, gets a 5xx.
 *
 * It runs here rather than against an in-process gateway because the answers
 * that used to be 500s came from behind the gateway (a NUL reaching the
 * integrations service's INSERT, a cursor reaching a SQL cast): a lone gateway
 * would answer every valid request 503 (no service) and never get there.
 * Fixed seed, bounded count: FUZZ_SEED and FUZZ_PER_OPERATION change them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, test } from 'vitest';
import pg from 'pg';
import { DEFAULTS } from '@switchyard/kit/local';
import { freePort } from '@switchyard/kit/testing';
import { startSystem, type IsolatedSystem } from '@switchyard/kit/testing/system';
import { operations, requestFor, rng, type FuzzRequest } from './fuzz/generate.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20_251_123);
const PER_OPERATION = Number(process.env.FUZZ_PER_OPERATION ?? 150);
const CONCURRENCY = 8;
// The gateway's default BODY_LIMIT_BYTES.
const BODY_LIMIT = 1_048_576;

const local = new URL(process.env.DATABASE_URL ?? DEFAULTS.DATABASE_URL);
const customerDb = `customer_fuzz_${randomBytes(4).toString('hex')}`;
let sys: IsolatedSystem;

async function adminSql(sql: string) {
  const url = new URL(local.toString());
  url.pathname = '/postgres';
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

interface Answer {
  status: number;
  type: string;
  body: string;
}

// A connection per request: the server may close one after an error answer, and a reused socket would fail the next request.
const agent = new http.Agent({ keepAlive: false, maxSockets: CONCURRENCY });

/** node:http rather than fetch: the path goes out exactly as generated (fetch would normalise `..` and encodings). */
function send(r: FuzzRequest): Promise<Answer> {
  const api = new URL(sys.api);
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        host: api.hostname,
        port: api.port,
        method: r.method,
        path: r.path,
        // As clients send bodies: with a length (Node's server refuses a chunked body on GET with a bare 400 of its own).
        headers: r.body === undefined ? r.headers : { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => resolve({ status: 0, type: '', body: err.message }));
      },
    );
    // The server may answer early and close (a body over the limit): the answer, or the closed connection, is what counts.
    req.on('error', (err) => resolve({ status: 0, type: '', body: err.message }));
    req.end(r.body);
  });
}

async function json(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sys.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${sys.adminKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { id: string } };
}

describe('fuzzing every OpenAPI operation', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    sys = await startSystem({ name: 'e2e_fuzz', print: process.env.E2E_LOGS ? undefined : null });
    await adminSql(`CREATE DATABASE ${customerDb}`);
  });

  afterAll(async () => {
    agent.destroy();
    await sys?.stop();
    await adminSql(`DROP DATABASE IF EXISTS ${customerDb} WITH (FORCE)`).catch(() => {});
  });

  test('no request gets a 5xx; every error is a problem document; a NUL or lone surrogate is a 400 naming its field', async () => {
    const credential = { host: '127.0.0.1', port: Number(local.port || 5432), username: local.username || 'postgres', password: 'fuzz', database_name: customerDb, sslmode: 'disable' };
    const created = await json('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', name: 'fuzz target', credential });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const victim = await json('POST', '/v1/integrations', { integration_type: 'POSTGRESQL', name: 'fuzz victim', credential });
    const key = await json('POST', '/v1/api-keys', { name: 'fuzz victim', role: 'viewer' });
    const syncId = (created.body.sync as { id: string }).id;

    const doc = (await (await fetch(`${sys.api}/openapi.json`)).json()) as Parameters<typeof operations>[0];
    const ops = operations(doc);
    assert.ok(ops.length >= 25, `${ops.length} operations`);
    const r = rng(SEED);
    const fixtures = {
      key: sys.adminKey,
      ids: { id: [created.body.id, victim.body.id, key.body.id], syncId: [syncId] },
      // Credentials point only at this machine: the customer database, a closed port, a database that does not exist.
      values: {
        host: ['127.0.0.1'],
        port: [credential.port, await freePort()],
        username: [credential.username],
        password: ['fuzz'],
        database_name: [customerDb, 'no_such_database'],
        sslmode: ['disable'],
      },
    };
    const requests = ops.flatMap((op) => Array.from({ length: PER_OPERATION }, () => requestFor(op, r, fixtures)));
    // Deletions last, so the other operations keep finding what they point at.
    requests.sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));

    const began = performance.now();
    const statuses = new Map<number, number>();
    const serverErrors: string[] = [];
    const notProblems: string[] = [];
    const unnamed: string[] = [];
    const closed: string[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < requests.length; i = next++) {
        const q = requests[i]!;
        const a = await send(q);
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        const what = `${q.op} [${q.kind}] ${q.path.slice(0, 80)} → ${a.status} ${a.body.slice(0, 200)}`;
        if (a.status >= 500) serverErrors.push(what);
        // Node closes the connection once it has answered 413 to a body over the limit; a client still writing sees it closed.
        if (a.status === 0 && Buffer.byteLength(q.body ?? '') <= BODY_LIMIT) closed.push(what);
        // 431 (headers too large) is Node's own answer, before any route runs.
        if (a.status >= 400 && a.status !== 431 && !a.type.startsWith('application/problem+json')) notProblems.push(what);
        if (q.field) {
          const fields = a.status === 400 ? ((JSON.parse(a.body) as { errors?: { field: string }[] }).errors ?? []).map((e) => e.field) : [];
          if (!fields.includes(q.field)) unnamed.push(`${what} (expected 400 naming ${q.field})`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - began) / 1000;

    const byStatus = Object.fromEntries([...statuses].sort(([a], [b]) => a - b));
    console.log(
      `fuzz: seed ${SEED}, ${requests.length} requests over ${ops.length} operations in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(byStatus)}; ` +
        `${requests.filter((q) => q.field).length} aimed a NUL or lone surrogate at one field`,
    );
    assert.deepEqual(serverErrors.slice(0, 10), [], `${serverErrors.length} responses ≥ 500`);
    assert.deepEqual(closed.slice(0, 10), [], `${closed.length} connections closed without an answer`);
    assert.deepEqual(notProblems.slice(0, 10), [], `${notProblems.length} errors that are not problem documents`);
    assert.deepEqual(unnamed.slice(0, 10), [], `${unnamed.length} control characters not refused by name`);
    assert.ok((statuses.get(200) ?? 0) + (statuses.get(201) ?? 0) + (statuses.get(202) ?? 0) > 0, 'some requests got through to the services');
  });
});
