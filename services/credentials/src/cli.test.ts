/** The operator's `npm run admin -- rotate-master-key` against a running credentials service. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { credentialRequests } from '@switchyard/contracts';
import { Harness } from './testing.ts';

const CLI = fileURLToPath(new URL('../../gateway/src/cli.ts', import.meta.url));
const run = promisify(execFile);

let h: Harness;

function admin(natsUrl: string, ...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, NATS_URL: natsUrl, NATS_USER: '', NATS_PASSWORD: '' },
    timeout: 30_000,
  });
}

describe('admin rotate-master-key', () => {
  beforeAll(async () => {
    h = await Harness.start();
  });

  afterAll(async () => {
    await h?.stop();
  });

  test('fails with a clear message when no credentials service answers', async () => {
    await assert.rejects(admin(h.natsUrl, 'rotate-master-key'), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr ?? '', /the credentials service did not answer/);
      return true;
    });
  });

  test('rotates the master key and prints the new and previous key ids', async () => {
    const r = await h.replica(h.schema());
    const before = await r.rt.rpc.request(credentialRequests.keyRing, {});
    const { stdout } = await admin(h.natsUrl, 'rotate-master-key');
    const after = await r.rt.rpc.request(credentialRequests.keyRing, {});
    assert.notEqual(after.active_key_id, before.active_key_id);
    assert.match(stdout, new RegExp(`active master key: +${after.active_key_id}\\n`));
    assert.match(stdout, new RegExp(`previous keys: +${before.active_key_id}\\n`));
    assert.match(stdout, /records to re-wrap: +0 /);
  });
});
