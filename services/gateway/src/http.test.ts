import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createLogger, Runtime } from '@switchyard/kit';
import { dropSchema, testConfig, uniqueName } from '@switchyard/kit/testing';
import type { FastifyInstance } from 'fastify';
import { Config } from './config.ts';
import { buildHttp } from './http.ts';
import { createApiKey } from './repo/api-keys.ts';

const logs: string[] = [];
const config = testConfig({}, Config);
const schema = uniqueName('gateway_test');
let rt: Runtime;
let app: FastifyInstance;
let admin: string;
let viewer: string;
let otherTenantAdmin: string;

const req = (method: string, url: string, key?: string, body?: unknown, headers: Record<string, string> = {}) =>
  app.inject({
    method: method as 'GET',
    url,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('gateway HTTP API', () => {
  beforeAll(async () => {
    const log = createLogger({
      service: 'gateway',
      instanceId: 'gateway-test',
      level: 'info',
      destination: new Writable({ write: (chunk, _e, cb) => (logs.push(String(chunk)), cb()) }),
    });
    rt = await Runtime.create({
      service: 'gateway',
      version: 'test',
      instanceId: uniqueName('gateway'),
      config,
      log,
      schema,
      migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
    });
    await rt.markReady();
    app = await buildHttp(rt, config);
    admin = (await createApiKey(rt.pool, { tenantId: 'acme', name: 'admin', role: 'admin' })).key;
    viewer = (await createApiKey(rt.pool, { tenantId: 'acme', name: 'viewer', role: 'viewer' })).key;
    otherTenantAdmin = (await createApiKey(rt.pool, { tenantId: 'globex', name: 'admin', role: 'admin' })).key;
  });

  afterAll(async () => {
    await app?.close();
    await rt?.stop('test done');
    await dropSchema(config.DATABASE_URL, schema);
  });

  test('a request without a key, or with an unknown one, is a 401 problem with a Bearer challenge', async () => {
    for (const key of [undefined, 'sy_' + 'x'.repeat(32), 'not-a-key']) {
      const res = await req('GET', '/v1/api-keys', key);
      assert.equal(res.statusCode, 401);
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
      assert.match(res.headers['www-authenticate'] as string, /^Bearer/);
      assert.equal(res.json().code, 'UNAUTHENTICATED');
    }
  });

  test('a viewer may not manage keys (403 naming the role needed)', async () => {
    const res = await req('POST', '/v1/api-keys', viewer, { name: 'x' });
    assert.equal(res.statusCode, 403);
    assert.match(res.json().detail, /admin role/);
  });

  test('an admin creates a key that works at once, is listed without its secret, and stops working when revoked', async () => {
    const created = await req('POST', '/v1/api-keys', admin, { name: 'ci', role: 'editor' });
    assert.equal(created.statusCode, 201);
    const body = created.json();
    assert.equal(body.role, 'editor');
    assert.equal(body.tenant_id, 'acme');
    assert.ok(body.key.startsWith(body.prefix));

    assert.equal((await req('GET', '/health/database', body.key)).statusCode, 200);
    assert.equal((await req('GET', '/v1/api-keys', body.key)).statusCode, 403, 'an editor is not an admin');

    const listed = await req('GET', '/v1/api-keys?limit=200', admin);
    const entry = listed.json().data.find((k: { id: string }) => k.id === body.id);
    assert.ok(entry, 'the new key is listed');
    assert.equal(entry.key, undefined);
    assert.ok(!listed.body.includes(body.key), 'the secret is never listed');

    assert.equal((await req('DELETE', `/v1/api-keys/${body.id}`, admin)).statusCode, 204);
    assert.equal((await req('GET', '/v1/api-keys', body.key)).statusCode, 401);
    assert.equal((await req('DELETE', `/v1/api-keys/${body.id}`, admin)).statusCode, 404, 'revoking twice is a 404');
  });

  test("another tenant's key is a 404, and is not listed", async () => {
    const theirs = (await req('POST', '/v1/api-keys', otherTenantAdmin, { name: 'theirs', role: 'admin' })).json();
    const res = await req('DELETE', `/v1/api-keys/${theirs.id}`, admin);
    assert.equal(res.statusCode, 404);
    const ours = (await req('GET', '/v1/api-keys?limit=200', admin)).json();
    assert.ok(!ours.data.some((k: { id: string }) => k.id === theirs.id));
    assert.equal((await req('GET', '/v1/api-keys', theirs.key)).statusCode, 200, 'their key still works');
  });

  test('bad input is a 400 problem naming each field, never a 500', async () => {
    const res = await req('POST', '/v1/api-keys', admin, { name: '', role: 'owner', extra: true });
    assert.equal(res.statusCode, 400);
    const fields = res.json().errors.map((e: { field: string }) => e.field).sort();
    assert.deepEqual(fields, ['body.extra', 'body.name', 'body.role']);

    const cases: [string, string, unknown, Record<string, string>?][] = [
      ['POST', '/v1/api-keys', '{"name":', undefined],
      ['POST', '/v1/api-keys', '[]', undefined],
      ['POST', '/v1/api-keys', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['GET', '/v1/api-keys?limit=0', undefined],
      ['GET', '/v1/api-keys?limit=abc', undefined],
      ['GET', '/v1/api-keys?cursor=garbage', undefined],
      ['DELETE', '/v1/api-keys/not-a-uuid', undefined],
    ];
    for (const [method, url, body, headers] of cases) {
      const r = await req(method, url, admin, body, headers);
      assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${method} ${url} ${String(body)} → ${r.statusCode}`);
      assert.match(r.headers['content-type'] as string, /^application\/problem\+json/);
      assert.equal(r.json().status, r.statusCode);
    }
    const cursor = await req('GET', '/v1/api-keys?cursor=garbage', admin);
    assert.deepEqual(cursor.json().errors, [{ field: 'query.cursor', message: 'not a valid cursor' }]);
  });

  test('listing pages through every key once with the cursor', async () => {
    for (let i = 0; i < 5; i++) await req('POST', '/v1/api-keys', admin, { name: `page-${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await req('GET', `/v1/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`, admin);
      const page = res.json() as { data: { id: string }[]; next_cursor: string | null };
      assert.ok(page.data.length <= 2);
      seen.push(...page.data.map((k) => k.id));
      cursor = page.next_cursor;
    } while (cursor);
    const all = (await req('GET', '/v1/api-keys?limit=200', admin)).json().data.map((k: { id: string }) => k.id);
    assert.deepEqual(seen, all);
    assert.equal(new Set(seen).size, seen.length);
  });

  test('OpenAPI 3.1 is served from the same schemas, with its UI at /docs', async () => {
    const doc = (await req('GET', '/openapi.json')).json();
    assert.equal(doc.openapi, '3.1.0');
    for (const path of ['/v1/api-keys', '/v1/api-keys/{id}', '/v1/system/status', '/health'])
      assert.ok(doc.paths[path], `${path} is documented`);
    const post = doc.paths['/v1/api-keys'].post;
    assert.deepEqual(post.requestBody.content['application/json'].schema.properties.role.enum, ['admin', 'editor', 'viewer']);
    assert.equal((await req('GET', '/docs/')).statusCode, 200);
  });

  test('an unknown route is a 404 problem for a caller with a key', async () => {
    const res = await req('GET', '/v1/nothing-here', admin);
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'NOT_FOUND');
  });

  test('no key secret reaches the logs', () => {
    const text = logs.join('');
    assert.ok(text.includes('"msg":"request"'), 'requests were logged');
    for (const key of [admin, viewer, otherTenantAdmin]) assert.ok(!text.includes(key));
  });
});
