/**
 * One service shape: every request subject a service serves has a handler
 * file named after it (`services/<service>/src/handlers/<subject>.ts`), and
 * every handler file answers a subject of the contracts.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as contracts from '@switchyard/contracts';
import type { RequestRoute } from '@switchyard/contracts';
import { ROOT } from '@switchyard/kit/local';
import { describe, test } from 'vitest';

const isRoute = (v: unknown): v is RequestRoute =>
  typeof v === 'object' && v !== null && typeof (v as RequestRoute).subject === 'string' && 'request' in v && 'response' in v;

/** Every request route the contracts declare, from every exported catalog. */
const routes = [
  ...new Map(
    Object.values(contracts)
      .filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !isRoute(v))
      .flatMap((catalog) => Object.values(catalog).filter(isRoute))
      .map((r) => [r.subject, r]),
  ).values(),
];
// `<service>.status`, `<service>.outbox.*` and `<service>.jobs.requeue` are answered by the kit's runtime for every service, not by a handler of the service.
const byRuntime = new Set(
  contracts.SERVICE_NAMES.flatMap((s) => [
    contracts.statusRequests[s],
    contracts.outboxRequests[s].parked,
    contracts.outboxRequests[s].retry,
    contracts.jobRequests[s].requeue,
  ]).map((r) => r.subject),
);
const served = routes.filter((r) => !byRuntime.has(r.subject));

describe('one service shape', () => {
  test('the contracts declare request routes (the scan below is not vacuous)', () => {
    assert.ok(served.length >= 20, `found ${served.length}`);
  });

  test('every request subject has a handler file named after it', () => {
    const missing = served
      .map((r) => join('services', r.service, 'src', 'handlers', `${r.subject}.ts`))
      .filter((file) => !existsSync(join(ROOT, file)));
    assert.deepEqual(missing, []);
  });

  test('every handler file answers a subject of the contracts', () => {
    const subjects = new Set(served.map((r) => r.subject));
    const stray = readdirSync(join(ROOT, 'services'))
      .flatMap((service) => {
        const dir = join(ROOT, 'services', service, 'src', 'handlers');
        return existsSync(dir) ? readdirSync(dir).map((f) => ({ service, f })) : [];
      })
      // `<service>.<verb>.ts` names a subject; other files (deps.ts, shared steps) are helpers.
      .filter(({ service, f }) => f.startsWith(`${service}.`) && f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .filter(({ f }) => !subjects.has(f.slice(0, -'.ts'.length)))
      .map(({ service, f }) => `services/${service}/src/handlers/${f}`);
    assert.deepEqual(stray, []);
  });
});
