import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import type { WindowMetrics } from '@switchyard/contracts';
import { analyze } from './analysis.ts';
import { step } from './alerting.ts';
import { decide, FRESH, type HealthCounters, type Observation } from './health.ts';
import { bucketOf, merge, quantile, type SparseHistogram } from './histogram.ts';

const exact = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.max(1, Math.ceil(q * xs.length)) - 1]!;

describe('log histograms', () => {
  test('percentiles are within 4.5% of the exact ones over six orders of magnitude', () => {
    // A skewed spread: many fast, some slow, a long tail.
    const xs = Array.from({ length: 5_000 }, (_, i) => 0.5 + (i % 97) * 3 + (i % 13 === 0 ? i * 40 : 0) + (i % 499 === 0 ? 3_600_000 : 0));
    const h: SparseHistogram = {};
    for (const x of xs) merge(h, { [bucketOf(x)]: 1 });
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      const want = exact(xs, q);
      const got = quantile(h, q)!;
      assert.ok(Math.abs(got - want) / want <= 0.045, `p${q * 100}: ${got} vs ${want}`);
    }
  });

  test('an empty histogram has no percentile; merging adds counts', () => {
    assert.equal(quantile({}, 0.5), null);
    assert.deepEqual(merge({ 3: 1, 4: 2 }, { 4: 1, 9: 5 }), { 3: 1, 4: 3, 9: 5 });
  });
});

describe('the health state machine', () => {
  const test_ = (ok: boolean, latencyMs: number | null = 12, errorCode: string | null = ok ? null : 'CONNECTION_REFUSED'): Observation => ({
    kind: 'connection_test',
    ok,
    latencyMs,
    errorCode,
  });
  const sync = (ok: boolean): Observation => ({ kind: 'sync', ok, latencyMs: 900, errorCode: ok ? null : 'TIMEOUT' });
  const run = (obs: Observation[], start: HealthCounters = FRESH) => {
    let c = start;
    return obs.map((o) => {
      const v = decide(c, o);
      c = v;
      return v.state;
    });
  };

  test('healthy at the first pass; degraded at one failure, unhealthy at two; back through recovering', () => {
    assert.deepEqual(run([test_(true), test_(false), test_(false), test_(false), test_(true), test_(true), test_(true)]), [
      'healthy',
      'degraded',
      'unhealthy',
      'unhealthy',
      'degraded',
      'healthy',
      'healthy',
    ]);
  });

  test('a flapping database does not flap the state: one pass between failures stays degraded', () => {
    assert.deepEqual(run([test_(true), test_(false), test_(true), test_(false), test_(true)]), ['healthy', 'degraded', 'degraded', 'degraded', 'degraded']);
  });

  test('syncs: one failure degrades until a sync completes; three in a row are unhealthy', () => {
    assert.deepEqual(run([sync(true), sync(false), test_(true), test_(true), sync(true), sync(true)]), ['healthy', 'degraded', 'degraded', 'degraded', 'healthy', 'healthy']);
    assert.deepEqual(run([sync(false), sync(false), sync(false)]), ['degraded', 'degraded', 'unhealthy']);
  });

  test('a slow but passing test is degraded, and says why', () => {
    const v = decide(FRESH, test_(true, 2_500));
    assert.equal(v.state, 'degraded');
    assert.match(v.reason, /2500 ms/);
  });
});

describe('alert steps: fire once, resolve once, with hysteresis', () => {
  const at = (s: number) => new Date(1_700_000_000_000 + s * 1_000);

  test('for 0: fires at the first true evaluation and resolves at the first false one', () => {
    assert.deepEqual(step(undefined, true, 0, at(0)), { do: 'open', fireNow: true });
    assert.deepEqual(step({ state: 'firing', clearSince: null }, true, 0, at(30)), { do: 'keep', clearSince: null });
    assert.deepEqual(step({ state: 'firing', clearSince: null }, false, 0, at(60)), { do: 'resolve' });
    assert.deepEqual(step(undefined, false, 0, at(90)), { do: 'nothing' });
  });

  test('for 60 s: pending until the condition held a minute; resolves after a minute false; a dip shorter than that keeps it firing', () => {
    assert.deepEqual(step(undefined, true, 60, at(0)), { do: 'open', fireNow: false });
    assert.deepEqual(step({ state: 'pending', activeSince: at(0) }, true, 60, at(30)), { do: 'keep', clearSince: null });
    assert.deepEqual(step({ state: 'pending', activeSince: at(0) }, true, 60, at(60)), { do: 'fire' });
    assert.deepEqual(step({ state: 'firing', clearSince: null }, false, 60, at(90)), { do: 'keep', clearSince: at(90) });
    // True again before a minute passed: the clock of the resolve starts over.
    assert.deepEqual(step({ state: 'firing', clearSince: at(90) }, true, 60, at(120)), { do: 'keep', clearSince: null });
    assert.deepEqual(step({ state: 'firing', clearSince: at(150) }, false, 60, at(180)), { do: 'keep', clearSince: at(150) });
    assert.deepEqual(step({ state: 'firing', clearSince: at(150) }, false, 60, at(210)), { do: 'resolve' });
  });

  test('a pending alert whose condition stops is dropped: it never fired, so it never resolves', () => {
    assert.deepEqual(step({ state: 'pending', activeSince: at(0) }, false, 60, at(30)), { do: 'drop' });
  });
});

describe('the performance analysis', () => {
  const metrics = (o: Partial<WindowMetrics> & { p95?: number; failed?: number; completed?: number; errors?: Record<string, number>; relations?: number }): WindowMetrics => ({
    window: '24h',
    from: new Date(0).toISOString(),
    to: new Date(0).toISOString(),
    syncs: { started: (o.completed ?? 0) + (o.failed ?? 0), completed: o.completed ?? 0, failed: o.failed ?? 0, cancelled: 0 },
    success_rate: (o.completed ?? 0) + (o.failed ?? 0) ? (o.completed ?? 0) / ((o.completed ?? 0) + (o.failed ?? 0)) : null,
    error_rate: (o.completed ?? 0) + (o.failed ?? 0) ? (o.failed ?? 0) / ((o.completed ?? 0) + (o.failed ?? 0)) : null,
    duration_ms: { avg: o.p95 ?? null, p50: o.p95 ?? null, p95: o.p95 ?? null, p99: o.p95 ?? null, max: o.p95 ?? null },
    throughput: { syncs_per_hour: 1, relations_per_sync: o.relations ?? null, relations_per_second: null },
    errors: o.errors ?? {},
    connection_tests: { total: 0, failed: 0, latency_ms: { avg: null, p50: null, p95: null, p99: null, max: null } },
  });

  test('p95 up more than 50% and error rate up more than 5 points are degradations; the recommendations follow from the error codes and sizes', () => {
    const r = analyze({
      window: '24h',
      current: metrics({ completed: 80, failed: 20, p95: 9_000, errors: { AUTHENTICATION_FAILED: 15, TIMEOUT: 5 }, relations: 2_000 }),
      baseline: metrics({ completed: 297, failed: 3, p95: 4_000, relations: 2_000 }),
      health: 'degraded',
      schemasConfigured: null,
    });
    assert.deepEqual(r.degradations.map((d) => d.code).sort(), ['ERROR_RATE_UP', 'SYNC_DURATION_P95_UP']);
    assert.deepEqual(r.recommendations.map((d) => d.code).sort(), ['CHECK_CREDENTIALS', 'CHECK_NETWORK', 'NARROW_SCHEMAS']);
    assert.equal(r.recommendations.find((x) => x.code === 'CHECK_CREDENTIALS')?.evidence.authentication_failures, 15);
    assert.equal(r.trends.find((t) => t.metric === 'sync_duration_p95_ms')?.direction, 'up');
    assert.equal(r.trends.find((t) => t.metric === 'sync_duration_p95_ms')?.better, false);
    // 100 less each deduction listed, and nothing else.
    assert.equal(r.score, 100 - r.deductions.reduce((s, d) => s + d.points, 0));
  });

  test('a steady, passing integration has no degradation, no recommendation and a full score; with no data, no score', () => {
    const steady = analyze({ window: '24h', current: metrics({ completed: 50, p95: 800 }), baseline: metrics({ completed: 150, p95: 790 }), health: 'healthy', schemasConfigured: 1 });
    assert.deepEqual([steady.degradations, steady.recommendations], [[], []]);
    assert.equal(steady.score, 100);
    const none = analyze({ window: '1h', current: metrics({}), baseline: metrics({}), health: 'unknown', schemasConfigured: null });
    assert.equal(none.score, null);
    assert.ok(none.insights.some((i) => i.code === 'NO_SYNCS'));
  });
});
