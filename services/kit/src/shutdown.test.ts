import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { PHASES, Shutdown } from './shutdown.ts';
import { testLogger } from './testing/index.ts';

const log = testLogger('shutdown-test');

describe('Shutdown', () => {
  test('runs steps phase by phase, in PHASES order, whatever order they were registered in', async () => {
    const s = new Shutdown(log);
    const ran: string[] = [];
    for (const phase of [...PHASES].reverse()) {
      s.on(phase, `${phase} step`, async () => {
        // Yield, so a later phase starting early would get ahead.
        await Promise.resolve();
        ran.push(phase);
      });
    }
    assert.equal(await s.run(5_000, 'test'), true);
    assert.deepEqual(ran, [...PHASES]);
  });

  test("steps of one phase run together; the next phase waits for all of them", async () => {
    const s = new Shutdown(log);
    const ran: string[] = [];
    // Each of the two in-flight steps waits for the other to have started: run one by one, they never finish.
    let startA!: () => void;
    let startB!: () => void;
    const aStarted = new Promise<void>((r) => (startA = r));
    const bStarted = new Promise<void>((r) => (startB = r));
    s.on('in-flight', 'a', async () => {
      startA();
      await bStarted;
      ran.push('a');
    });
    s.on('in-flight', 'b', async () => {
      startB();
      await aStarted;
      await Promise.resolve();
      ran.push('b');
    });
    s.on('nats', 'drain', () => void ran.push('nats'));
    assert.equal(await s.run(2_000, 'test'), true);
    assert.deepEqual(ran, ['a', 'b', 'nats']);
  });

  test('a failing step does not stop the later ones', async () => {
    const s = new Shutdown(log);
    const ran: string[] = [];
    s.on('stop-intake', 'broken', () => {
      throw new Error('already closed');
    });
    s.on('resources', 'pool', () => void ran.push('pool'));
    assert.equal(await s.run(2_000, 'test'), true);
    assert.deepEqual(ran, ['pool']);
  });

  test('run() twice runs the steps once and both callers get the same outcome', async () => {
    const s = new Shutdown(log);
    let runs = 0;
    s.on('resources', 'count', () => void runs++);
    const [a, b] = await Promise.all([s.run(2_000, 'SIGTERM'), s.run(2_000, 'SIGINT')]);
    assert.equal(a, true);
    assert.equal(b, true);
    assert.equal(await s.run(2_000, 'again'), true);
    assert.equal(runs, 1);
  });

  test('a step that overruns the deadline makes run() resolve false at about the deadline', async () => {
    const s = new Shutdown(log);
    const ran: string[] = [];
    s.on('in-flight', 'stuck job', () => new Promise<void>(() => {}));
    s.on('resources', 'pool', () => void ran.push('pool'));
    const started = performance.now();
    const ok = await s.run(200, 'test');
    const took = performance.now() - started;
    assert.equal(ok, false);
    assert.ok(took >= 195 && took < 1_000, `took ${Math.round(took)} ms for a 200 ms deadline`);
    assert.deepEqual(ran, [], 'later phases never ran');
  });
});
