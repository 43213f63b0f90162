import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DependencyHealth } from '@switchyard/contracts';

export type Checks = () => Promise<Record<string, DependencyHealth>>;
export type State = 'starting' | 'ready' | 'draining';

/** Times a dependency probe and turns its outcome into a DependencyHealth. */
export async function probe(fn: () => Promise<unknown>, timeoutMs = 1_000): Promise<DependencyHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'up', latency_ms: Math.round((performance.now() - started) * 100) / 100 };
  } catch (err) {
    return { status: 'down', error: (err as Error).message || String(err) };
  } finally {
    clearTimeout(timer);
  }
}

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

/**
 * /healthz: the process is alive (no dependency checks, so a database outage
 * does not get every pod restarted). /readyz: ready and every dependency
 * answers. /metrics: Prometheus.
 */
export async function startHealthServer(opts: {
  host: string;
  port: number;
  state: () => State;
  checks: Checks;
  /** The checks readiness depends on (default: all); the others are reported but do not make it 503. */
  required?: readonly string[];
  metrics: (req: IncomingMessage, res: ServerResponse) => void;
}): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return send(res, 200, { status: 'ok' });
    if (path === '/metrics') return opts.metrics(req, res);
    if (path === '/readyz') {
      const state = opts.state();
      if (state !== 'ready') return send(res, 503, { status: state });
      opts.checks().then(
        (checks) => {
          const ok = (opts.required ?? Object.keys(checks)).every((k) => checks[k]?.status === 'up');
          // Ready with an optional dependency (Redis) down: the checks say which.
          send(res, ok ? 200 : 503, { status: ok ? 'ready' : 'degraded', checks });
        },
        (err) => send(res, 503, { status: 'error', error: String(err) }),
      );
      return;
    }
    send(res, 404, { status: 404, title: 'Not Found' });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
