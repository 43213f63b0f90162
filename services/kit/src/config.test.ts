import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { baseConfig, ConfigError, envBool, loadConfig, redactUrl } from './config.ts';

const base = baseConfig({ healthPort: 3000 });

/** Runs loadConfig and returns the ConfigError it must throw. */
function configError(schema: z.ZodType, env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(schema, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('loadConfig accepted a bad environment');
}

describe('loadConfig', () => {
  test('applies the defaults to an empty environment', () => {
    const c = loadConfig(base, {});
    assert.equal(c.HEALTH_PORT, 3000);
    assert.equal(c.DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/switchyard');
    assert.equal(c.SHUTDOWN_TIMEOUT_MS, 10_000);
    assert.equal(c.NODE_ENV, 'development');
  });

  test('names every bad variable in one error', () => {
    const err = configError(base, {
      DATABASE_URL: 'mysql://root@db:3306/app',
      HEALTH_PORT: 'eighty',
      NATS_URL: 'http://nats:4222',
    });
    assert.equal(err.name, 'ConfigError');
    assert.equal(err.problems.length, 3, err.message);
    for (const name of ['DATABASE_URL', 'HEALTH_PORT', 'NATS_URL']) {
      assert.ok(
        err.problems.some((p) => p.startsWith(`${name}:`)),
        `${name} not named in: ${err.message}`,
      );
      assert.match(err.message, new RegExp(`- ${name}: `));
    }
  });

  test('names a missing required variable as not set', () => {
    const schema = base.extend({ MASTER_KEY: z.string().min(32) });
    const err = configError(schema, { HEALTH_PORT: '-1' });
    assert.deepEqual(
      err.problems.map((p) => p.split(':')[0]).sort(),
      ['HEALTH_PORT', 'MASTER_KEY'],
    );
    assert.ok(err.problems.includes('MASTER_KEY: is required but not set'), err.message);
  });

  test('an empty string counts as unset, so the default applies', () => {
    const c = loadConfig(base, { HEALTH_PORT: '', DATABASE_URL: '', LOG_LEVEL: '' });
    assert.equal(c.HEALTH_PORT, 3000);
    assert.equal(c.DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/switchyard');
    assert.equal(c.LOG_LEVEL, 'info');
  });

  test('an empty required variable is reported as not set', () => {
    const err = configError(z.object({ MASTER_KEY: z.string() }), { MASTER_KEY: '' });
    assert.deepEqual(err.problems, ['MASTER_KEY: is required but not set']);
  });

  test('coerces numbers', () => {
    const c = loadConfig(base, { HEALTH_PORT: '8081', DB_POOL_MAX: '3' });
    assert.equal(c.HEALTH_PORT, 8081);
    assert.equal(c.DB_POOL_MAX, 3);
  });
});

describe('envBool', () => {
  const schema = z.object({ FEATURE: envBool.default(true) });

  test('maps "false" and "0" to false, "true" and "1" to true', () => {
    assert.equal(loadConfig(schema, { FEATURE: 'false' }).FEATURE, false);
    assert.equal(loadConfig(schema, { FEATURE: '0' }).FEATURE, false);
    assert.equal(loadConfig(schema, { FEATURE: 'true' }).FEATURE, true);
    assert.equal(loadConfig(schema, { FEATURE: '1' }).FEATURE, true);
  });

  test('rejects "yes", naming the variable', () => {
    const err = configError(schema, { FEATURE: 'yes' });
    assert.equal(err.problems.length, 1);
    assert.match(err.problems[0]!, /^FEATURE: must be one of true, false, 1, 0/);
  });

  test('an empty value takes the default', () => {
    assert.equal(loadConfig(schema, { FEATURE: '' }).FEATURE, true);
  });
});

test('redactUrl hides passwords in connection URLs, lists included', () => {
  assert.equal(redactUrl('postgres://app:s3cret@db:5432/x'), 'postgres://app:***@db:5432/x');
  assert.equal(redactUrl('nats://a:p1@n1:4222,nats://b:p2@n2:4222'), 'nats://a:***@n1:4222,nats://b:***@n2:4222');
  assert.equal(redactUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
});

describe('production refuses development defaults and plaintext to other hosts', () => {
  const prod = (env: NodeJS.ProcessEnv) => configError(base, { NODE_ENV: 'production', NATS_USER: 'gateway', ...env }).problems;

  test('local infrastructure with a NATS user is accepted as it is', () => {
    const c = loadConfig(base, { NODE_ENV: 'production', NATS_USER: 'gateway', NATS_PASSWORD: 'a-long-random-secret' });
    assert.equal(c.NODE_ENV, 'production');
  });

  test('plaintext PostgreSQL, Redis and NATS on another host are refused, each named', () => {
    const problems = prod({
      DATABASE_URL: 'postgres://app:s3cr3t-value@db.internal:5432/switchyard',
      REDIS_URL: 'redis://cache.internal:6379',
      NATS_URL: 'nats://127.0.0.1:4222,nats://nats-1.internal:4222',
    });
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['DATABASE_URL', 'REDIS_URL', 'NATS_URL']);
    assert.match(problems[0]!, /sslmode=verify-full/);
  });

  test('TLS to other hosts is accepted: sslmode, rediss://, tls://', () => {
    const c = loadConfig(base, {
      NODE_ENV: 'production',
      NATS_USER: 'gateway',
      DATABASE_URL: 'postgres://app:s3cr3t-value@db.internal:5432/switchyard?sslmode=verify-full',
      REDIS_URL: 'rediss://cache.internal:6380',
      NATS_URL: 'tls://nats-0.internal:4222,tls://nats-1.internal:4222',
    });
    assert.equal(c.REDIS_URL, 'rediss://cache.internal:6380');
  });

  test('ALLOW_INSECURE_TRANSPORT accepts plaintext explicitly, per dependency', () => {
    const problems = prod({
      DATABASE_URL: 'postgres://app:s3cr3t-value@postgres:5432/switchyard',
      REDIS_URL: 'redis://redis:6379',
      NATS_URL: 'nats://nats:4222',
      ALLOW_INSECURE_TRANSPORT: 'postgres,nats',
    });
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['REDIS_URL']);
    assert.match(configError(base, { ALLOW_INSECURE_TRANSPORT: 'postgres,mysql' }).message, /ALLOW_INSECURE_TRANSPORT/);
  });

  test('development passwords and NATS without a user are refused', () => {
    const problems = configError(base, {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://switchyard:switchyard@127.0.0.1:5432/switchyard',
      NATS_PASSWORD: 'gateway-dev-password',
    }).problems;
    assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), ['DATABASE_URL', 'NATS_PASSWORD', 'NATS_USER']);
  });

  test('outside production the same settings are accepted', () => {
    const c = loadConfig(base, { DATABASE_URL: 'postgres://switchyard:switchyard@db.internal:5432/x', REDIS_URL: 'redis://cache:6379' });
    assert.equal(c.NODE_ENV, 'development');
  });
});
