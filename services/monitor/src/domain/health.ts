import type { HealthState } from '@switchyard/contracts';


/**
 * The health state machine of one integration, fed with observations as they
 * happen: connection tests (the monitor's periodic ones and anyone's) and
 * finished syncs. Like a Kubernetes probe it needs more than one result to
 * change its mind, both ways:
 *
 * - one failed connection test, or a failed sync: degraded;
 * - 2 failed connection tests in a row, or 3 failed syncs in a row: unhealthy;
 * - back to healthy only after 2 passing observations in a row (degraded,
 *   "recovering", after the first), so a flapping database does not flap the
 *   state (and the events and alerts that follow it); a failed sync keeps it
 *   degraded until a sync completes;
 * - a passing but slow connection test (over 2 s of the 5 s bound): degraded.
 */
export const UNHEALTHY_AFTER_TESTS = 2;
export const UNHEALTHY_AFTER_SYNCS = 3;
export const RECOVER_AFTER = 2;
export const SLOW_TEST_MS = 2_000;

export interface HealthCounters {
  testFailures: number;
  syncFailures: number;
  /** Consecutive passing observations of either kind. */
  streak: number;
}

export interface Observation {
  kind: 'connection_test' | 'sync';
  ok: boolean;
  latencyMs: number | null;
  errorCode: string | null;
}

export interface HealthVerdict extends HealthCounters {
  state: HealthState;
  reason: string;
}

/** Counters of an integration nothing has been observed about: no failure to recover from. */
export const FRESH: HealthCounters = { testFailures: 0, syncFailures: 0, streak: RECOVER_AFTER };

const what = (o: Observation) => (o.kind === 'sync' ? 'sync' : 'connection test');

export function decide(current: HealthCounters, o: Observation): HealthVerdict {
  const c: HealthCounters = {
    // A completed sync connected too: it clears failed connection tests.
    testFailures: o.ok ? 0 : o.kind === 'connection_test' ? current.testFailures + 1 : current.testFailures,
    syncFailures: o.kind === 'sync' ? (o.ok ? 0 : current.syncFailures + 1) : current.syncFailures,
    streak: o.ok ? current.streak + 1 : 0,
  };
  const code = o.errorCode ?? 'UNKNOWN';
  if (c.testFailures >= UNHEALTHY_AFTER_TESTS)
    return { ...c, state: 'unhealthy', reason: `${c.testFailures} connection tests failed in a row (last: ${code})` };
  if (c.syncFailures >= UNHEALTHY_AFTER_SYNCS)
    return { ...c, state: 'unhealthy', reason: `${c.syncFailures} syncs failed in a row (last: ${code})` };
  if (!o.ok) return { ...c, state: 'degraded', reason: `the last ${what(o)} failed: ${code}` };
  if (c.syncFailures > 0) return { ...c, state: 'degraded', reason: 'the last sync failed; connection tests pass' };
  if (c.streak < RECOVER_AFTER) return { ...c, state: 'degraded', reason: `recovering: ${c.streak} of ${RECOVER_AFTER} checks passed` };
  if (o.kind === 'connection_test' && o.latencyMs !== null && o.latencyMs > SLOW_TEST_MS)
    return { ...c, state: 'degraded', reason: `slow: the connection test took ${Math.round(o.latencyMs)} ms` };
  return { ...c, state: 'healthy', reason: 'connection tests and syncs pass' };
}
