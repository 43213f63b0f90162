import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'vitest';
import { ConfigError, loadConfig } from '@switchyard/kit';
import { Config, rootKeys } from './config.ts';

const key = randomBytes(32).toString('base64');

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(Config, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('the configuration was accepted');
}

describe('credentials config', () => {
  test('a root key that is not base64 is refused, naming the variable', () => {
    const [p] = problems({ CREDENTIALS_ROOT_KEY: 'not base64 at all!' });
    assert.match(p!, /^CREDENTIALS_ROOT_KEY: must be base64/);
  });

  test('a root key of the wrong length is refused, naming the variable and the length', () => {
    const [p] = problems({ CREDENTIALS_ROOT_KEY: randomBytes(16).toString('base64') });
    assert.match(p!, /^CREDENTIALS_ROOT_KEY: must decode to exactly 32 bytes, not 16/);
    const [q] = problems({ CREDENTIALS_ROOT_KEY: key, CREDENTIALS_ROOT_KEY_PREVIOUS: 'c2hvcnQ=' });
    assert.match(q!, /^CREDENTIALS_ROOT_KEY_PREVIOUS: must decode to exactly 32 bytes, not 5/);
  });

  test('production requires a root key', () => {
    const [p] = problems({ NODE_ENV: 'production' });
    assert.match(p!, /^CREDENTIALS_ROOT_KEY: /);
    const c = loadConfig(Config, { NODE_ENV: 'production', CREDENTIALS_ROOT_KEY: key, NATS_USER: 'credentials' });
    assert.deepEqual(rootKeys(c), { current: Buffer.from(key, 'base64'), previous: undefined, insecureDefault: false });
  });

  test('outside production an unset root key means the development key, flagged as such', () => {
    const c = loadConfig(Config, { NODE_ENV: 'test' });
    const keys = rootKeys(c);
    assert.equal(keys.insecureDefault, true);
    assert.equal(keys.current.length, 32);
    assert.equal(c.REWRAP_BATCH_SIZE, 100);
  });

  test('REWRAP_BATCH_SIZE must be a positive integer', () => {
    assert.match(problems({ REWRAP_BATCH_SIZE: '0' })[0]!, /^REWRAP_BATCH_SIZE: /);
  });
});
