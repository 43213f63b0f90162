/**
 * The kit's telemetry is the OpenTelemetry NodeSDK, so the standard OTEL_*
 * variables work as OpenTelemetry documents them. Each case runs a probe
 * process (telemetry registers global providers once per process) against an
 * in-process OTLP receiver; the probe flushes before it exits, so what the
 * receiver holds when the process is gone is everything it sent.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, test } from 'vitest';
import { OtlpReceiver } from './testing/index.ts';

const PROBE = fileURLToPath(new URL('./testing/fixtures/telemetry-probe.ts', import.meta.url));
const run = promisify(execFile);

interface Probe {
  traceId: string;
  sampled: boolean;
  metricsStatus: number;
  metrics: string;
}

const otlp = new OtlpReceiver();
let endpoint = '';

async function probe(env: Record<string, string>): Promise<Probe> {
  // Only what the case sets: OTEL_* from the test runner's own environment must not leak in.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', PROBE], { env: { ...base, ...env } });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Probe;
}

describe('telemetry through the OpenTelemetry NodeSDK', () => {
  beforeAll(async () => {
    endpoint = await otlp.start();
  });
  afterAll(() => otlp.stop());
  beforeEach(() => {
    otlp.spans.length = 0;
    otlp.requests.length = 0;
  });

  test('without an exporter configured, spans are made (ids for logs and NATS headers) but stay in the process', async () => {
    const p = await probe({});
    assert.match(p.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(p.traceId, '0'.repeat(32));
    assert.equal(p.sampled, true);
    assert.equal(otlp.requests.length, 0);
  });

  test('OTEL_EXPORTER_OTLP_ENDPOINT exports, as http/protobuf by default', async () => {
    const p = await probe({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    assert.ok(p.sampled);
    assert.deepEqual(
      otlp.requests.map((r) => [r.path, r.contentType]),
      [['/v1/traces', 'application/x-protobuf']],
    );
  });

  test('OTEL_EXPORTER_OTLP_PROTOCOL=http/json, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES', async () => {
    const p = await probe({
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'renamed',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging,service.namespace=switchyard',
    });
    const span = otlp.spans.find((s) => s.traceId === p.traceId);
    assert.ok(span, 'the span arrived as OTLP/JSON');
    assert.equal(span.name, 'probe span');
    assert.equal(span.resource['service.name'], 'renamed', 'OTEL_SERVICE_NAME wins over the service name');
    assert.equal(span.resource['deployment.environment.name'], 'staging');
    assert.equal(span.resource['service.namespace'], 'switchyard');
    assert.equal(span.resource['service.version'], '1.2.3', "the kit's own attributes stay");
    assert.equal(span.resource['service.instance.id'], 'probe-1');
  });

  test('OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG choose what is sampled', async () => {
    const off = await probe({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'always_off' });
    assert.equal(off.sampled, false);
    const none = await probe({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' });
    assert.equal(none.sampled, false);
    assert.equal(otlp.requests.length, 0, 'unsampled spans are not exported');
  });

  test('OTEL_SDK_DISABLED=true turns it off: no export, /metrics is 404', async () => {
    const p = await probe({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    assert.equal(p.metricsStatus, 404);
    assert.equal(p.sampled, false);
    assert.equal(otlp.requests.length, 0);
  });

  test('/metrics carries process and Node runtime metrics: event-loop delay, heap, GC and CPU', async () => {
    const p = await probe({});
    assert.equal(p.metricsStatus, 200);
    for (const name of [
      'nodejs_eventloop_delay_p99',
      'nodejs_eventloop_utilization',
      'v8js_memory_heap_used',
      'v8js_gc_duration',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ])
      assert.match(p.metrics, new RegExp(`^${name}`, 'm'), `${name} is served`);
  });
});
