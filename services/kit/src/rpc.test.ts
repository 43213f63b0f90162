import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { AnyReply, type RequestRoute } from '@switchyard/contracts';
import { AppError } from './errors.ts';
import { connectNats, type NatsConnection } from './nats.ts';
import { RpcClient, serveRequests, type RequestServer } from './rpc.ts';
import { testConfig, testLogger, uniqueName } from './testing/index.ts';

const config = testConfig();
const log = testLogger('rpc-test');

// Routes on a unique prefix so other processes on the shared NATS never answer them.
const prefix = uniqueName('kitrpc');
const route = <Req extends z.ZodType, Res extends z.ZodType>(verb: string, request: Req, response: Res, timeoutMs = 2_000) =>
  ({ subject: `${prefix}.${verb}`, service: 'orchestrator', request, response, timeoutMs }) satisfies RequestRoute<Req, Res>;

const Greeting = z.object({ greeting: z.string() });
const routes = {
  greet: route('greet', z.object({ name: z.string().min(1), times: z.number().int().positive().default(1) }), Greeting),
  find: route('find', z.object({ id: z.string() }), Greeting),
  crash: route('crash', z.object({}), Greeting),
  slow: route('slow', z.object({ tag: z.string() }), Greeting),
  budget: route('budget', z.object({}), z.object({ bytes: z.number() })),
};
const nobody = route('nobody', z.object({}), Greeting);

/** A promise with its resolver outside, for handlers the test holds and releases. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

let serverNc: NatsConnection;
let clientNc: NatsConnection;
let server: RequestServer;
let client: RpcClient;
const slow = new Map<string, { entered: ReturnType<typeof gate>; release: ReturnType<typeof gate> }>();
const slowGates = (tag: string) => {
  let g = slow.get(tag);
  if (!g) slow.set(tag, (g = { entered: gate(), release: gate() }));
  return g;
};

beforeAll(async () => {
  serverNc = await connectNats({ servers: config.NATS_URL, name: 'rpc-test-server', log });
  clientNc = await connectNats({ servers: config.NATS_URL, name: 'rpc-test-client', log });
  server = serveRequests(serverNc, {
    routes,
    queue: prefix,
    log,
    handlers: {
      greet: async ({ name, times }) => ({ greeting: `hello ${name}`.repeat(times) }),
      find: async ({ id }) => {
        throw new AppError('NOT_FOUND', `integration ${id} not found`, { details: { id } });
      },
      crash: async () => {
        throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
      },
      slow: async ({ tag }) => {
        const g = slowGates(tag);
        g.entered.open();
        await g.release.promise;
        return { greeting: `done ${tag}` };
      },
      budget: async (_req, ctx) => ({ bytes: ctx.maxReplyBytes ?? -1 }),
    },
  });
  client = new RpcClient(clientNc);
  // Subscriptions are live once the server has seen them.
  await serverNc.flush();
});

afterAll(async () => {
  for (const g of slow.values()) g.release.open();
  await server.drain();
  await serverNc.close();
  await clientNc.close();
});

/** Sends raw bytes as a request, the way a client without the contract would. */
async function rawRequest(subject: string, body: string): Promise<AnyReply> {
  const msg = await clientNc.request(subject, body, { timeout: 2_000 });
  return AnyReply.parse(msg.json());
}

/** The AppError a call rejects with. */
async function appError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    return err;
  }
  assert.fail('the call succeeded');
}

describe('serveRequests and RpcClient', () => {
  test('round trip through the contract (defaults applied on the server)', async () => {
    const res = await client.request(routes.greet, { name: 'ada' });
    assert.deepEqual(res, { greeting: 'hello ada' });
    assert.deepEqual(await client.request(routes.greet, { name: 'x', times: 2 }), { greeting: 'hello xhello x' });
  });

  test('the client rejects a request that breaks the contract before sending it, naming the field', async () => {
    const err = await appError(client.request(routes.greet, { name: '' }));
    assert.equal(err.code, 'VALIDATION_FAILED');
    assert.deepEqual(
      err.errors?.map((e) => e.field),
      ['name'],
    );
  });

  test('the server rejects a request that breaks the contract, naming the field', async () => {
    const reply = await rawRequest(routes.greet.subject, JSON.stringify({ name: 42, times: 1 }));
    assert.equal(reply.ok, false);
    assert.ok(!reply.ok);
    assert.equal(reply.error.code, 'VALIDATION_FAILED');
    assert.deepEqual(
      reply.error.errors?.map((e) => e.field),
      ['name'],
    );
  });

  test('the server answers BAD_REQUEST to a body that is not JSON', async () => {
    const reply = await rawRequest(routes.greet.subject, '{not json');
    assert.ok(!reply.ok);
    assert.equal(reply.error.code, 'BAD_REQUEST');
  });

  test("a handler's AppError arrives with its code, message and details", async () => {
    const err = await appError(client.request(routes.find, { id: 'int_1' }));
    assert.equal(err.code, 'NOT_FOUND');
    assert.equal(err.message, 'integration int_1 not found');
    assert.deepEqual(err.details, { id: 'int_1' });
    assert.equal(err.retryable, false);
  });

  test('a plain Error from a handler arrives as INTERNAL without its detail', async () => {
    const err = await appError(client.request(routes.crash, {}));
    assert.equal(err.code, 'INTERNAL');
    assert.equal(err.message, 'internal error');
    const raw = await rawRequest(routes.crash.subject, '{}');
    assert.doesNotMatch(JSON.stringify(raw), /hunter2|ECONNREFUSED|10\.0\.0\.7/);
  });

  test('no server for the subject → UNAVAILABLE, retryable', async () => {
    const err = await appError(client.request(nobody, {}));
    assert.equal(err.code, 'UNAVAILABLE');
    assert.equal(err.retryable, true);
  });

  test('a handler slower than the timeout → TIMEOUT', async () => {
    const g = slowGates('timeout');
    const started = performance.now();
    const err = await appError(client.request(routes.slow, { tag: 'timeout' }, { timeoutMs: 150 }));
    const took = performance.now() - started;
    assert.equal(err.code, 'TIMEOUT');
    assert.equal(err.retryable, true);
    assert.ok(took < 1_500, `took ${took} ms for a 150 ms timeout`);
    // The handler did get the request; let it finish.
    await g.entered.promise;
    g.release.open();
  });
});

describe('replies bounded by max_payload', () => {
  test('handlers are told how many bytes their answer may take', async () => {
    const { bytes } = await client.request(routes.budget, {});
    const max = serverNc.info!.max_payload;
    assert.ok(bytes > max - 2_048 && bytes < max, `${bytes} of ${max}`);
  });

  test('an answer over max_payload is RESPONSE_TOO_LARGE at once, naming its size and what to do, not a timeout', async () => {
    const max = serverNc.info!.max_payload;
    const err = await appError(client.request(routes.greet, { name: 'x', times: Math.ceil(max / 'hello x'.length) + 1 }, { timeoutMs: 10_000 }));
    assert.equal(err.code, 'RESPONSE_TOO_LARGE');
    assert.equal(err.retryable, false);
    assert.match(err.message, new RegExp(`more than one response may carry \\(${max}\\): ask for less`));
    assert.ok((err.details?.bytes as number) > max);
    // The server goes on answering.
    assert.deepEqual(await client.request(routes.greet, { name: 'y' }), { greeting: 'hello y' });
  });
});

describe('RequestServer.drain', () => {
  test('waits for an in-flight request to complete and reply', async () => {
    const drainNc = await connectNats({ servers: config.NATS_URL, name: 'rpc-test-drain', log });
    const tag = uniqueName('drain');
    const g = slowGates(tag);
    const drainRoutes = { slow: route(`drain_${tag}.slow`, z.object({ tag: z.string() }), Greeting) };
    const events: string[] = [];
    try {
      const s = serveRequests(drainNc, {
        routes: drainRoutes,
        queue: prefix,
        log,
        handlers: {
          slow: async (req) => {
            g.entered.open();
            await g.release.promise;
            events.push('handler done');
            return { greeting: `done ${req.tag}` };
          },
        },
      });
      await drainNc.flush();

      const call = client.request(drainRoutes.slow, { tag }, { timeoutMs: 5_000 }).then((r) => {
        events.push('reply');
        return r;
      });
      await g.entered.promise;
      const drained = s.drain().then(() => events.push('drained'));
      // A round trip through the server: the drain has reached it, yet must not finish while the handler runs.
      await drainNc.flush();
      await clientNc.flush();
      assert.equal(events.length, 0, events.join(','));

      g.release.open();
      assert.deepEqual(await call, { greeting: `done ${tag}` });
      await drained;
      assert.equal(events[0], 'handler done');
      assert.ok(events.includes('reply') && events.includes('drained'), events.join(','));

      // Drained: the subject has no responder any more.
      const err = await appError(client.request(drainRoutes.slow, { tag }, { timeoutMs: 1_000 }));
      assert.equal(err.code, 'UNAVAILABLE');
    } finally {
      g.release.open();
      await drainNc.close();
    }
  });
});

describe('the caller’s deadline travels with the request', () => {
  const p = uniqueName('kitrpc_deadline');
  const Seen = z.object({ deadline: z.number() });
  const deadlineRoutes = {
    inner: { subject: `${p}.inner`, service: 'orchestrator', request: z.object({}), response: Seen, timeoutMs: 5_000 },
    outer: { subject: `${p}.outer`, service: 'orchestrator', request: z.object({}), response: z.object({ outer: z.number(), inner: z.number() }), timeoutMs: 1_000 },
  } satisfies Record<string, RequestRoute>;
  let calls = 0;
  let deadlineServer: RequestServer;

  beforeAll(async () => {
    deadlineServer = serveRequests(serverNc, {
      routes: deadlineRoutes,
      queue: p,
      log,
      handlers: {
        inner: async (_req, ctx) => {
          calls++;
          return { deadline: ctx.deadline };
        },
        // Calls inner, whose own timeout (5 s) is longer than what outer's caller gives (1 s).
        outer: async (_req, ctx) => ({ outer: ctx.deadline, inner: (await client.request(deadlineRoutes.inner, {})).deadline }),
      },
    });
    // The subscriptions reach the server before the first request.
    await serverNc.flush();
  });
  afterAll(() => deadlineServer.drain());

  test('a request that arrives after its caller gave up is answered TIMEOUT without running the handler', async () => {
    const before = calls;
    const h = (await import('@nats-io/nats-core')).headers();
    h.set('Switchyard-Deadline', String(Date.now() - 1));
    const msg = await clientNc.request(deadlineRoutes.inner.subject, '{}', { timeout: 2_000, headers: h });
    const reply = AnyReply.parse(msg.json());
    assert.equal(reply.ok, false);
    assert.equal(!reply.ok && reply.error.code, 'TIMEOUT');
    assert.equal(calls, before, 'the handler did not run');
  });

  test('a request a handler makes in turn never outlives the request being handled', async () => {
    const sent = Date.now();
    const { outer, inner } = await client.request(deadlineRoutes.outer, {});
    const answered = Date.now();
    assert.ok(outer >= sent + 1_000 && outer <= answered + 1_000, 'outer carries its caller’s 1 s deadline');
    assert.ok(inner <= outer, `inner's deadline (${inner}) is not later than outer's (${outer})`);
  });
});

describe('NATS lost while a request waits', () => {
  test('the request fails as UNAVAILABLE when the connection drops, not at its timeout', async () => {
    const { startNatsServer } = await import('./testing/index.ts');
    const nats = await startNatsServer();
    const p = uniqueName('kitrpc_lost');
    const held = { subject: `${p}.held`, service: 'orchestrator', request: z.object({}), response: Greeting, timeoutMs: 120_000 } satisfies RequestRoute;
    const sNc = await connectNats({ servers: nats.url, name: 'lost-server', log });
    const cNc = await connectNats({ servers: nats.url, name: 'lost-client', log });
    const entered = gate();
    const srv = serveRequests(sNc, {
      routes: { held },
      queue: p,
      log,
      handlers: {
        held: async () => {
          entered.open();
          return new Promise<never>(() => {}); // never answers
        },
      },
    });
    try {
      await sNc.flush();
      // Its failure is taken at once (it comes while NATS is being stopped).
      const outcome = new RpcClient(cNc).request(held, {}).then(() => undefined, (err: unknown) => err);
      await entered.promise;
      await nats.stop();
      const err = await outcome;
      assert.ok(err instanceof AppError && err.code === 'UNAVAILABLE' && /lost/.test(err.message), String(err));
    } finally {
      void srv;
      await Promise.allSettled([sNc.close(), cNc.close()]);
      await nats.dispose();
    }
  });
});
