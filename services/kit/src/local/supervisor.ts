/**
 * The local process supervisor: starts the seven services as separate
 * processes, prefixes their logs, waits for every /readyz and stops them in
 * order. Used by `npm start`, the end-to-end tests and the benchmarks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { HEALTH_PORTS, SERVICE_NAMES, type ServiceName } from '@switchyard/contracts';
import { compiledMain } from './build.ts';
import { ROOT } from './infra.ts';


export interface RunningService {
  name: ServiceName;
  child: ChildProcess;
  healthPort: number;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  logs: string[];
}

/**
 * How a service process runs: `compiled` (the default: dist/main.js, built by
 * services/kit/src/local/build.ts, with source maps), `tsx` (TypeScript compiled in the
 * process, as before there was a build) or `watch` (tsx, restarted on change:
 * `npm run dev`).
 */
export type ServiceRuntime = 'compiled' | 'tsx' | 'watch';

/**
 * Node flags of a compiled service (the image's CMD uses the same; a test
 * keeps them in step). Source maps give TypeScript lines in stack traces. A
 * young generation of at most 1 MiB per semi-space keeps an idle service
 * small (V8 grows it to 16 MiB during start-up and never gives it back);
 * these services are I/O-bound, so the extra scavenges cost little (see the
 * platform benchmark).
 */
export const SERVICE_NODE_FLAGS = ['--enable-source-maps', '--max-semi-space-size=1'] as const;

export function serviceCommand(name: ServiceName, runtime: ServiceRuntime = 'compiled'): string[] {
  const source = join(ROOT, 'services', name, 'src', 'main.ts');
  if (runtime === 'tsx') return ['--import', 'tsx', source];
  if (runtime === 'watch') return [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'watch', '--clear-screen=false', source];
  return [...SERVICE_NODE_FLAGS, compiledMain(name)];
}

export interface StartOptions {
  env: Record<string, string>;
  runtime?: ServiceRuntime;
  /** Per-service extra environment. */
  envFor?: (name: ServiceName) => Record<string, string>;
  healthPorts?: Record<ServiceName, number>;
  /** Where each log line goes (default: stdout with a prefix). `null` keeps logs only in memory. */
  print?: ((name: ServiceName, line: string) => void) | null;
  readyTimeoutMs?: number;
  services?: readonly ServiceName[];
}

const COLORS = [36, 33, 35, 32, 34, 91, 96];
const width = Math.max(...SERVICE_NAMES.map((s) => s.length));

/** Turns a pino JSON line into `HH:MM:SS LEVEL msg key=value …` for people. */
export function formatLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line);
  } catch {
    return line;
  }
  const { level, time, msg, service: _s, instance_id: _i, err, ...rest } = o as Record<string, unknown> & { err?: { message?: string; stack?: string } };
  const t = typeof time === 'string' ? time.slice(11, 19) : '';
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const errText = err ? `\n    ${err.stack ?? err.message}` : '';
  return `${t} ${String(level ?? '').toUpperCase().padEnd(5)} ${msg ?? ''}${extra ? `  ${extra}` : ''}${errText}`;
}

export const defaultPrinter = (name: ServiceName, line: string) => {
  const color = COLORS[SERVICE_NAMES.indexOf(name) % COLORS.length];
  const prefix = process.stdout.isTTY ? `\x1b[${color}m${name.padEnd(width)}\x1b[0m` : name.padEnd(width);
  process.stdout.write(`${prefix} | ${formatLine(line)}\n`);
};

export function startService(name: ServiceName, opts: StartOptions): RunningService {
  const healthPort = (opts.healthPorts ?? HEALTH_PORTS)[name];
  const child = spawn(process.execPath, serviceCommand(name, opts.runtime), {
    cwd: ROOT,
    env: { ...process.env, ...opts.env, HEALTH_PORT: String(healthPort), ...(opts.envFor?.(name) ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const print = opts.print === undefined ? defaultPrinter : opts.print;
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      logs.push(line);
      if (logs.length > 5_000) logs.shift();
      print?.(name, line);
    });
  }
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { name, child, healthPort, exited, logs };
}

/** Waits until whatever process serves `port` answers /readyz with 200 (a restarted service counts). */
export async function waitHealthy(name: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} was not ready within ${timeoutMs / 1000} s`);
}

export async function waitReady(svc: RunningService, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: number | string | undefined;
  void svc.exited.then((c) => (exitedWith = c));
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) throw new Error(`${svc.name} exited (${exitedWith}) before it was ready:\n${svc.logs.slice(-15).join('\n')}`);
    try {
      const res = await fetch(`http://127.0.0.1:${svc.healthPort}/readyz`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${svc.name} was not ready within ${timeoutMs / 1000} s:\n${svc.logs.slice(-15).join('\n')}`);
}

export async function startAll(opts: StartOptions): Promise<RunningService[]> {
  const list = (opts.services ?? SERVICE_NAMES).map((name) => startService(name, opts));
  try {
    await Promise.all(list.map((s) => waitReady(s, opts.readyTimeoutMs ?? 60_000)));
  } catch (err) {
    await stopAll(list);
    throw err;
  }
  return list;
}

/** SIGTERM to each, then wait; SIGKILL whatever is still running after `graceMs`. */
export async function stopAll(list: RunningService[], graceMs = 15_000): Promise<(number | string)[]> {
  for (const s of list) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  const timer = setTimeout(() => list.forEach((s) => s.child.kill('SIGKILL')), graceMs);
  const codes = await Promise.all(list.map((s) => s.exited));
  clearTimeout(timer);
  return codes;
}

/**
 * Keeps a set of services running as Kubernetes would: a service that exits
 * on its own (not stopped by us) is started again after a backoff that doubles
 * from 1 s to 30 s, and resets once the service has stayed up for a minute.
 * Each restart is reported through `log`.
 */
export class Supervisor {
  private stopping = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly restarts = new Map<ServiceName, number>();

  constructor(
    private services: RunningService[],
    private readonly opts: StartOptions & { log: (message: string) => void },
  ) {
    for (const s of services) this.watch(s, 0);
  }

  /** The processes running now (a restarted service is a new process). */
  get running(): RunningService[] {
    return [...this.services];
  }

  private watch(svc: RunningService, failures: number) {
    const startedAt = Date.now();
    void svc.exited.then((code) => {
      if (this.stopping) return;
      // Up for a minute: whatever failed before is over; start the backoff again from 1 s.
      const streak = Date.now() - startedAt > 60_000 ? 1 : failures + 1;
      const delay = Math.min(1_000 * 2 ** (streak - 1), 30_000);
      this.restarts.set(svc.name, (this.restarts.get(svc.name) ?? 0) + 1);
      this.opts.log(`${svc.name} exited unexpectedly (${code}); restarting it in ${delay / 1000} s`);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.stopping) return;
        const fresh = startService(svc.name, this.opts);
        this.services = this.services.map((s) => (s === svc ? fresh : s));
        this.watch(fresh, streak);
      }, delay);
      this.timers.add(timer);
    });
  }

  /** Stops restarting, then stops every service in order. */
  async stop(graceMs?: number): Promise<(number | string)[]> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    return stopAll(this.services, graceMs);
  }
}
