import type { Finding, HealthState, MetricsWindow, Performance, Trend, WindowMetrics } from '@switchyard/contracts';

/**
 * The performance analysis of one integration: every figure it states comes
 * from the window's metrics and its baseline (the three windows before), and
 * each finding carries the figures it was derived from. Nothing is
 * estimated that was not measured: there is no "expected gain".
 */
export const P95_DEGRADED = 0.5; // p95 up more than 50% on the baseline
export const ERROR_RATE_POINTS = 0.05; // error rate up more than 5 points
export const SLOW_SYNC_MS = 5_000; // seed 001's sync-duration threshold
export const SLOW_TEST_MS = 1_000;
export const LARGE_CATALOG = 500; // relations per sync worth narrowing
/** Fewer finished syncs than this in a window or its baseline and a comparison says nothing. */
export const MIN_SAMPLE = 5;

const AUTH = ['AUTHENTICATION_FAILED', 'PERMISSION_DENIED'];
const NETWORK = ['TIMEOUT', 'CONNECTION_REFUSED', 'HOST_NOT_FOUND', 'CONNECTION_LOST'];
const TLS = ['TLS_REQUIRED', 'TLS_UNAVAILABLE', 'TLS_FAILED', 'TLS_UNVERIFIED'];

const finished = (m: WindowMetrics) => m.syncs.completed + m.syncs.failed;
const sum = (errors: Record<string, number>, codes: string[]) => codes.reduce((s, c) => s + (errors[c] ?? 0), 0);

function trend(metric: string, current: number | null, baseline: number | null, higherIsBetter: boolean, relative: boolean): Trend {
  if (current === null || baseline === null) return { metric, current, baseline, change: null, direction: 'unknown', better: null };
  const change = relative ? (baseline === 0 ? null : (current - baseline) / baseline) : current - baseline;
  const flat = change === null ? current === baseline : Math.abs(change) < (relative ? 0.05 : 0.005);
  const direction = flat ? 'flat' : current > baseline ? 'up' : 'down';
  return {
    metric,
    current,
    baseline,
    change: change === null ? null : Math.round(change * 1_000) / 1_000,
    direction,
    better: flat ? null : (direction === 'up') === higherIsBetter,
  };
}

export interface AnalysisInput {
  window: MetricsWindow;
  current: WindowMetrics;
  /** The three windows before, merged: rates and percentiles compare as they are, counts per window. */
  baseline: WindowMetrics;
  health: HealthState;
  schemasConfigured: number | null;
}

export function analyze(a: AnalysisInput): Omit<Performance, 'integration_id'> {
  const { current: m, baseline: b } = a;
  const comparable = finished(m) >= MIN_SAMPLE && finished(b) >= MIN_SAMPLE;
  const trends = [
    trend('sync_duration_p95_ms', m.duration_ms.p95, b.duration_ms.p95, false, true),
    trend('sync_duration_avg_ms', m.duration_ms.avg, b.duration_ms.avg, false, true),
    trend('error_rate', m.error_rate, b.error_rate, false, false),
    trend('syncs_per_window', finished(m), finished(b) / 3, true, true),
    trend('connection_test_latency_p95_ms', m.connection_tests.latency_ms.p95, b.connection_tests.latency_ms.p95, false, true),
    trend('relations_per_sync', m.throughput.relations_per_sync, b.throughput.relations_per_sync, true, true),
  ];

  const degradations: Finding[] = [];
  if (comparable && m.duration_ms.p95 !== null && b.duration_ms.p95 && m.duration_ms.p95 > b.duration_ms.p95 * (1 + P95_DEGRADED))
    degradations.push({
      code: 'SYNC_DURATION_P95_UP',
      message: `p95 sync duration rose ${Math.round((m.duration_ms.p95 / b.duration_ms.p95 - 1) * 100)}% on the baseline (more than ${P95_DEGRADED * 100}%)`,
      evidence: { current_p95_ms: m.duration_ms.p95, baseline_p95_ms: b.duration_ms.p95 },
    });
  if (comparable && m.error_rate !== null && b.error_rate !== null && m.error_rate - b.error_rate > ERROR_RATE_POINTS)
    degradations.push({
      code: 'ERROR_RATE_UP',
      message: `the error rate rose ${Math.round((m.error_rate - b.error_rate) * 1_000) / 10} points on the baseline (more than ${ERROR_RATE_POINTS * 100})`,
      evidence: { current_error_rate: m.error_rate, baseline_error_rate: b.error_rate },
    });
  const tp = m.connection_tests.latency_ms.p95;
  const bp = b.connection_tests.latency_ms.p95;
  if (tp !== null && bp && m.connection_tests.total >= MIN_SAMPLE && tp > bp * (1 + P95_DEGRADED))
    degradations.push({
      code: 'CONNECTION_LATENCY_UP',
      message: `p95 connection-test latency rose ${Math.round((tp / bp - 1) * 100)}% on the baseline`,
      evidence: { current_p95_ms: tp, baseline_p95_ms: bp },
    });

  const insights: Finding[] = [];
  if (finished(m) === 0) insights.push({ code: 'NO_SYNCS', message: `no sync finished in the last ${a.window}`, evidence: { syncs_started: m.syncs.started } });
  else if (m.error_rate === 0)
    insights.push({ code: 'ALL_SYNCS_PASSED', message: `all ${finished(m)} syncs of the last ${a.window} completed`, evidence: { completed: m.syncs.completed } });
  const top = Object.entries(m.errors).sort((x, y) => y[1] - x[1])[0];
  if (top) insights.push({ code: 'TOP_ERROR', message: `the most frequent failure is ${top[0]} (${top[1]} times)`, evidence: { [top[0]]: top[1] } });
  if (!comparable && finished(m) > 0)
    insights.push({ code: 'SMALL_SAMPLE', message: `trends need at least ${MIN_SAMPLE} finished syncs in the window and its baseline`, evidence: { finished: finished(m), baseline_finished: finished(b) } });

  const recommendations: Finding[] = [];
  const auth = sum(m.errors, AUTH);
  if (auth > 0)
    recommendations.push({
      code: 'CHECK_CREDENTIALS',
      message: 'check the credential: the database refused it (replace it with PUT /v1/integrations/{id}/credentials, or grant the user access)',
      evidence: { authentication_failures: auth, failed_syncs: m.syncs.failed, failed_tests: m.connection_tests.failed },
    });
  const network = sum(m.errors, NETWORK);
  if (network > 0)
    recommendations.push({
      code: 'CHECK_NETWORK',
      message: 'check that the database is up and reachable from Switchyard (host, port, firewall): connections timed out, were refused or lost',
      evidence: { network_failures: network },
    });
  const tls = sum(m.errors, TLS);
  if (tls > 0) recommendations.push({ code: 'CHECK_TLS', message: "check the credential's sslmode against the server's TLS setup", evidence: { tls_failures: tls } });
  const slow = m.duration_ms.p95 !== null && m.duration_ms.p95 > SLOW_SYNC_MS;
  if (slow && (m.throughput.relations_per_sync ?? 0) > LARGE_CATALOG && a.schemasConfigured === null)
    recommendations.push({
      code: 'NARROW_SCHEMAS',
      message: 'discovery is slow over a large catalog: list only the schemas you need in config.schemas',
      evidence: { p95_ms: m.duration_ms.p95, relations_per_sync: m.throughput.relations_per_sync },
    });
  else if (slow)
    recommendations.push({
      code: 'SLOW_DISCOVERY',
      message: `syncs take longer than ${SLOW_SYNC_MS / 1_000} s at p95: check the database's load and its catalog size`,
      evidence: { p95_ms: m.duration_ms.p95, relations_per_sync: m.throughput.relations_per_sync },
    });
  if (tp !== null && tp > SLOW_TEST_MS)
    recommendations.push({
      code: 'SLOW_CONNECTIONS',
      message: 'connecting takes long: check network latency to the database and its connection limits',
      evidence: { connection_test_p95_ms: tp },
    });

  const deductions: { reason: string; points: number }[] = [];
  if (m.error_rate !== null && m.error_rate > 0)
    deductions.push({ reason: `error rate ${Math.round(m.error_rate * 1_000) / 10}%`, points: Math.min(50, Math.round(m.error_rate * 100)) });
  if (slow) deductions.push({ reason: `p95 sync duration over ${SLOW_SYNC_MS} ms`, points: 10 });
  if (tp !== null && tp > SLOW_TEST_MS) deductions.push({ reason: `p95 connection test over ${SLOW_TEST_MS} ms`, points: 5 });
  if (m.connection_tests.failed > 0)
    deductions.push({ reason: `${m.connection_tests.failed} failed connection tests`, points: Math.min(20, m.connection_tests.failed * 5) });
  for (const d of degradations) deductions.push({ reason: d.code, points: 10 });
  if (a.health === 'unhealthy') deductions.push({ reason: 'unhealthy now', points: 30 });
  if (a.health === 'degraded') deductions.push({ reason: 'degraded now', points: 10 });
  const measured = finished(m) > 0 || m.connection_tests.total > 0;
  const score = measured ? Math.max(0, 100 - deductions.reduce((s, d) => s + d.points, 0)) : null;

  return { window: a.window, health: a.health, score, deductions, metrics: m, trends, degradations, insights, recommendations };
}
