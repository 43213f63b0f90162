import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { isAppError } from '@switchyard/kit';
import { TenantSlots } from './tenant-slots.ts';

/** Work that ends when the test says so. */
function gate() {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const done = new Promise<string>((resolve, reject) => {
    open = () => resolve('done');
    fail = reject;
  });
  return { work: () => done, open, fail };
}

const rateLimited = (err: unknown) =>
  isAppError(err) && err.code === 'RATE_LIMITED' && err.retryable && err.details?.retry_after_seconds === 1 && err.details.limit === 2;

describe('TenantSlots', () => {
  test('a tenant runs at most `limit` at once; the next caller is refused at once with RATE_LIMITED and a retry hint', async () => {
    const slots = new TenantSlots(2);
    const [a, b] = [gate(), gate()];
    const running = [slots.run('t1', a.work), slots.run('t1', b.work)];
    assert.equal(slots.inUse('t1'), 2);
    let ran = false;
    await assert.rejects(slots.run('t1', async () => (ran = true)), rateLimited);
    assert.equal(ran, false, 'refused work never starts');
    a.open();
    b.open();
    assert.deepEqual(await Promise.all(running), ['done', 'done']);
  });

  test("one tenant's full slots do not limit another", async () => {
    const slots = new TenantSlots(2);
    const held = [gate(), gate()];
    const running = held.map((g) => slots.run('busy', g.work));
    assert.equal(await slots.run('other', async () => 'ok'), 'ok');
    for (const g of held) g.open();
    await Promise.all(running);
  });

  test('a slot frees when its work ends, fulfilled or failed', async () => {
    const slots = new TenantSlots(2);
    const [ok, bad] = [gate(), gate()];
    const first = slots.run('t1', ok.work);
    const second = slots.run('t1', bad.work);
    ok.open();
    await first;
    assert.equal(slots.inUse('t1'), 1);
    bad.fail(new Error('connection refused'));
    await assert.rejects(second, /connection refused/);
    assert.equal(slots.inUse('t1'), 0);
    assert.equal(await slots.run('t1', async () => 'again'), 'again');
  });
});
