import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/nats-core';
import { DeadLetter, deadLetterSubject, streams, type ConsumerDef } from '@switchyard/contracts';
import { AppError } from './errors.ts';
import { JobRunner, type JobContext, type JobFailure, type JobRunnerOptions } from './jobs.ts';
import { connectNats, type NatsConnection } from './nats.ts';
import { provision } from './provision.ts';
import { eventually, testConfig, testLogger, testStream } from './testing/index.ts';

const config = testConfig();
const log = testLogger('jobs-test');
const Job = z.object({ n: z.number().int() });
type Job = z.infer<typeof Job>;

let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  nc = await connectNats({ servers: config.NATS_URL, name: 'jobs-test', log });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  // Dead letters are published to JetStream, so the real dead-letter stream must be there to take them.
  await provision(nc, { streams: [streams.deadLetter] });
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await nc.close();
});

/** A promise with its resolver outside. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects when `p` has not settled within `ms`, naming what was awaited. */
function within<T>(what: string, p: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]);
}

/**
 * Dead letters for one consumer, read from a core subscription opened before
 * the runner starts. Each must match the DeadLetter contract.
 */
class DeadLetters {
  private readonly received: DeadLetter[] = [];
  private readonly invalid: string[] = [];
  private waiter?: () => void;
  constructor(sub: Subscription) {
    void (async () => {
      for await (const m of sub) {
        const parsed = DeadLetter.safeParse(m.json());
        if (parsed.success) this.received.push(parsed.data);
        else this.invalid.push(`${m.string()}: ${parsed.error.message}`);
        this.waiter?.();
      }
    })();
  }
  get all(): readonly DeadLetter[] {
    return this.received;
  }
  async next(count = 1): Promise<DeadLetter[]> {
    await within(`${count} dead letter(s)`, new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.invalid.length) reject(new Error(`dead letter breaks its contract: ${this.invalid[0]}`));
        else if (this.received.length >= count) resolve();
      };
      this.waiter = check;
      check();
    }));
    return this.received.slice(0, count);
  }
}

/** A fresh work-queue stream and durable consumer, a dead-letter listener, and a way to publish jobs. */
async function setup() {
  const { stream, consumer, subject } = testStream('kitjobs');
  await provision(nc, { streams: [stream], consumers: [consumer] });
  const dlSubject = deadLetterSubject(stream.name, consumer.durable);
  const sub = nc.subscribe(dlSubject);
  await nc.flush();
  cleanups.push(async () => {
    sub.unsubscribe();
    await jsm.streams.delete(stream.name);
    await jsm.streams.purge(streams.deadLetter.name, { filter: `deadletter.${stream.name}.>` });
  });
  const publish = async (key: string, body: unknown) => {
    await js.publish(`${subject}.${key}`, typeof body === 'string' ? body : JSON.stringify(body));
  };
  const consumerInfo = () => jsm.consumers.info(stream.name, consumer.durable);
  return { consumer, publish, deadLetters: new DeadLetters(sub), consumerInfo, subject };
}

function startRunner(
  consumer: ConsumerDef,
  opts: Partial<Omit<JobRunnerOptions<typeof Job>, 'nc' | 'consumer' | 'schema' | 'log'>> &
    Pick<JobRunnerOptions<typeof Job>, 'handler'>,
): JobRunner<typeof Job> {
  const runner = new JobRunner({ nc, consumer, schema: Job, log, concurrency: 1, backoffMs: () => 50, ...opts });
  runner.start();
  cleanups.push(() => runner.stop());
  return runner;
}

describe('JobRunner', () => {
  test('never runs more handlers at once than its concurrency', async () => {
    const { consumer, publish, consumerInfo } = await setup();
    for (let n = 1; n <= 5; n++) await publish(String(n), { n });

    let active = 0;
    let max = 0;
    const seen: number[] = [];
    const twoIn = deferred();
    const release = deferred();
    const allDone = deferred();
    const runner = startRunner(consumer, {
      concurrency: 2,
      handler: async ({ n }) => {
        active++;
        max = Math.max(max, active);
        if (active === 2) twoIn.resolve();
        await release.promise;
        active--;
        seen.push(n);
        if (seen.length === 5) allDone.resolve();
      },
    });
    // Cleanups run last-first: a failed assertion must not leave the runner's stop() waiting on held handlers.
    cleanups.push(async () => release.resolve());

    await within('two handlers running', twoIn.promise);
    assert.equal(runner.active, 2);
    // While both are held, the other three stay undelivered in the stream.
    const info = await consumerInfo();
    assert.equal(info.num_ack_pending, 2);
    assert.equal(info.num_pending, 3);

    release.resolve();
    await within('all five jobs', allDone.promise);
    assert.equal(max, 2);
    assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5]);
  });

  test('a retryable failure is redelivered after the backoff and succeeds on attempt 2', async () => {
    const { consumer, publish, deadLetters } = await setup();
    const attempts: number[] = [];
    const succeeded = deferred<JobContext>();
    const gaveUp: JobFailure[] = [];
    startRunner(consumer, {
      backoffMs: () => 50,
      onGiveUp: async (_p, f) => void gaveUp.push(f),
      handler: async (_job, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) throw new AppError('UNAVAILABLE', 'database is restarting');
        succeeded.resolve(ctx);
      },
    });
    await publish('a', { n: 1 });

    const ctx = await within('the second attempt', succeeded.promise);
    assert.equal(ctx.attempt, 2);
    assert.equal(ctx.lastAttempt, false);
    assert.deepEqual(attempts, [1, 2]);
    assert.deepEqual(gaveUp, []);
    assert.deepEqual(deadLetters.all, []);
  });

  test('a job that keeps failing goes to the dead-letter subject after maxDeliver attempts (exhausted)', async () => {
    const { consumer, publish, deadLetters, consumerInfo, subject } = await setup();
    const attempts: { attempt: number; last: boolean }[] = [];
    const gaveUp: { payload: unknown; failure: JobFailure }[] = [];
    const gaveUpOnce = deferred();
    startRunner(consumer, {
      onGiveUp: async (payload, failure) => {
        gaveUp.push({ payload, failure });
        gaveUpOnce.resolve();
      },
      handler: async (_job, ctx) => {
        attempts.push({ attempt: ctx.attempt, last: ctx.lastAttempt });
        throw new AppError('UNAVAILABLE', 'upstream is down');
      },
    });
    await publish('x', { n: 7 });

    const [letter] = await deadLetters.next();
    assert.equal(letter!.reason, 'exhausted');
    assert.equal(letter!.deliveries, consumer.maxDeliver);
    assert.equal(letter!.stream, consumer.stream);
    assert.equal(letter!.consumer, consumer.durable);
    assert.equal(letter!.subject, `${subject}.x`);
    assert.deepEqual(letter!.error, { code: 'UNAVAILABLE', message: 'upstream is down' });
    assert.deepEqual(letter!.payload, { n: 7 });

    await within('onGiveUp', gaveUpOnce.promise);
    // Acked after parking: the stream holds nothing more for the consumer.
    await eventually('the job to be acked', async () => {
      const info = await consumerInfo();
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
    assert.deepEqual(attempts, [
      { attempt: 1, last: false },
      { attempt: 2, last: false },
      { attempt: 3, last: true },
    ]);
    assert.equal(gaveUp.length, 1);
    assert.equal(gaveUp[0]!.failure.reason, 'exhausted');
    assert.equal(gaveUp[0]!.failure.deliveries, 3);
    assert.deepEqual(gaveUp[0]!.payload, { n: 7 });
    assert.equal(deadLetters.all.length, 1);
  });

  test('a permanent failure goes to the dead-letter subject after one attempt', async () => {
    const { consumer, publish, deadLetters, consumerInfo } = await setup();
    const attempts: number[] = [];
    const gaveUp: JobFailure[] = [];
    startRunner(consumer, {
      onGiveUp: async (_p, f) => void gaveUp.push(f),
      handler: async (_job, ctx) => {
        attempts.push(ctx.attempt);
        throw new AppError('VALIDATION_FAILED', 'integration has no host');
      },
    });
    await publish('p', { n: 3 });

    const [letter] = await deadLetters.next();
    assert.equal(letter!.reason, 'permanent');
    assert.equal(letter!.deliveries, 1);
    assert.equal(letter!.error.code, 'VALIDATION_FAILED');
    await eventually('the job to be terminated', async () => (await consumerInfo()).num_ack_pending === 0);
    assert.equal((await consumerInfo()).num_redelivered, 0);
    assert.deepEqual(attempts, [1]);
    assert.deepEqual(
      gaveUp.map((f) => f.reason),
      ['permanent'],
    );
  });

  test('a poison message (not JSON, or the wrong shape) is dead-lettered without calling the handler', async () => {
    const { consumer, publish, deadLetters, consumerInfo } = await setup();
    let calls = 0;
    const gaveUp: JobFailure[] = [];
    startRunner(consumer, {
      onGiveUp: async (_p, f) => void gaveUp.push(f),
      handler: async () => {
        calls++;
      },
    });
    await publish('notjson', '{this is not json');
    await publish('shape', { n: 'seven' });

    const letters = await deadLetters.next(2);
    assert.deepEqual(
      letters.map((l) => [l.reason, l.deliveries, l.error.code]),
      [
        ['poison', 1, 'VALIDATION_FAILED'],
        ['poison', 1, 'VALIDATION_FAILED'],
      ],
    );
    assert.equal(letters[0]!.payload, null);
    assert.deepEqual(letters[1]!.payload, { n: 'seven' });
    await eventually('both to be terminated', async () => (await consumerInfo()).num_ack_pending === 0);
    assert.equal((await consumerInfo()).num_redelivered, 0);
    assert.equal(calls, 0);
    assert.deepEqual(
      gaveUp.map((f) => f.reason),
      ['poison', 'poison'],
    );
  });

  test('a handler running past ackWait is kept alive by working() and not redelivered', async () => {
    const { consumer, publish, consumerInfo } = await setup();
    assert.equal(consumer.ackWaitMs, 2_000);
    const attempts: number[] = [];
    const done = deferred();
    // Two slots, so a redelivery would have somewhere to go and would show up as attempt 2.
    startRunner(consumer, {
      concurrency: 2,
      handler: async (_job, ctx) => {
        attempts.push(ctx.attempt);
        // The job itself: long work that never calls working().
        await new Promise((r) => setTimeout(r, consumer.ackWaitMs * 1.6));
        done.resolve();
      },
    });
    await publish('long', { n: 1 });

    await within('the long job', done.promise);
    await eventually('the long job to be acked', async () => (await consumerInfo()).num_ack_pending === 0);
    const info = await consumerInfo();
    assert.equal(info.num_redelivered, 0);
    assert.deepEqual(attempts, [1]);
  });
});

describe('JobRunner shutdown', () => {
  test('a job still running at the shutdown budget is aborted and handed straight to another worker', async () => {
    const { consumer, publish } = await setup();
    await publish('1', { n: 1 });
    const started = deferred<JobContext>();
    let deliveredAt = 0;
    const first = startRunner(consumer, {
      handler: (_job, ctx) => {
        deliveredAt = Date.now();
        started.resolve(ctx);
        // Runs until told to stop, like a long discovery.
        return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      },
    });
    const ctx = await within('the first worker to start the job', started.promise);
    assert.equal(ctx.attempt, 1);

    const takenOver = deferred<number>();
    await first.stop(100);
    assert.ok(ctx.signal.aborted, 'the handler was told to stop');
    startRunner(consumer, { handler: async (_job, c) => takenOver.resolve(c.attempt) });
    assert.equal(await within('another worker to take the job over', takenOver.promise), 2);
    // Before the ack wait ran out since the first delivery: only the nak(0) can have redelivered it.
    assert.ok(Date.now() - deliveredAt < consumer.ackWaitMs, 'redelivered at once, not after the ack wait');
  });
});
