import { hostname } from 'node:os';
import {
  Heartbeat,
  inboxPrefix,
  jobRequests,
  outboxRequests,
  signals,
  statusRequests,
  type DependencyHealth,
  type EventSubject,
  type RequestRoute,
  type ServiceName,
  type ServiceStatus,
} from '@switchyard/contracts';
import type { z } from 'zod';
import { setMaxMessageBytes } from './bounds.ts';
import type { BaseConfig } from './config.ts';
import { createPool, KIT_MIGRATIONS, migrateInWorker, type Pool } from './db.ts';
import { isUnavailable } from './errors.ts';
import { expireIdempotencyKeys } from './idempotency.ts';
import { dispatchEvents, EventEnvelope, type EventConsumerDef, type EventHandlers } from './events.ts';
import { probe, startHealthServer, type State } from './health.ts';
import { JobRunner, type JobRunnerOptions } from './jobs.ts';
import type { Logger } from './logger.ts';
import { connectNats, type NatsConnection } from './nats.ts';
import { OutboxRelay } from './outbox.ts';
import { listParked, retryParked } from './outbox-parked.ts';
import { createRedis, type RedisClient } from './redis.ts';
import { requeueHandler, type RequeueHook, type RequeueTarget } from './requeue.ts';
import { RpcClient, serveRequests, type Handlers } from './rpc.ts';
import { Shutdown } from './shutdown.ts';
import type { Telemetry } from './telemetry.ts';

const enc = new TextEncoder();

export interface RuntimeOptions {
  service: ServiceName;
  version: string;
  instanceId: string;
  config: BaseConfig;
  log: Logger;
  telemetry?: Telemetry;
  /** The service's own SQL migrations (the kit's outbox migration runs first). */
  migrationsDir?: string;
  /** PostgreSQL schema; defaults to the service name with dashes as underscores. */
  schema?: string;
}

/**
 * Everything a service stands on: pool, Redis, NATS, health server,
 * `<service>.status`, heartbeats and an ordered shutdown. Each resource is
 * registered with its close step the moment it is created.
 */
export class Runtime {
  readonly service: ServiceName;
  readonly version: string;
  readonly instanceId: string;
  readonly config: BaseConfig;
  readonly log: Logger;
  readonly schema: string;
  readonly startedAt = new Date();
  readonly shutdown: Shutdown;
  pool!: Pool;
  redis!: RedisClient;
  nc!: NatsConnection;
  rpc!: RpcClient;
  healthPort = 0;
  private state: State = 'starting';
  private heartbeatTimer?: NodeJS.Timeout;
  private relay?: OutboxRelay;
  /** The consumers this process runs, by `stream/durable`, for `<service>.jobs.requeue`. */
  private readonly requeueTargets = new Map<string, RequeueTarget>();

  private constructor(private readonly o: RuntimeOptions) {
    this.service = o.service;
    this.version = o.version;
    this.instanceId = o.instanceId;
    this.config = o.config;
    this.log = o.log;
    this.schema = o.schema ?? o.service.replace(/-/g, '_');
    this.shutdown = new Shutdown(o.log);
  }

  static async create(o: RuntimeOptions): Promise<Runtime> {
    const rt = new Runtime(o);
    try {
      await rt.init();
    } catch (err) {
      await rt.stop('start failed');
      throw err;
    }
    return rt;
  }

  private async init() {
    const { config, log } = this;
    setMaxMessageBytes(config.OUTBOX_MAX_MESSAGE_BYTES);
    const health = await startHealthServer({
      host: config.HEALTH_HOST,
      port: config.HEALTH_PORT,
      state: () => this.state,
      checks: () => this.checks(),
      // Redis holds only what can be rebuilt: a service without it still serves.
      required: ['postgres', 'nats'],
      metrics: (req, res) =>
        this.o.telemetry ? this.o.telemetry.metricsHandler(req, res) : res.writeHead(404).end('no telemetry'),
    });
    this.healthPort = health.port;
    this.shutdown.on('resources', 'health server', () => health.close());

    // PostgreSQL away at start is waited for (the service stays not ready), not a reason to exit.
    await this.whileUnavailable('PostgreSQL', () =>
      migrateInWorker({
        url: config.DATABASE_URL,
        schema: this.schema,
        dir: this.o.migrationsDir ? [KIT_MIGRATIONS, this.o.migrationsDir] : KIT_MIGRATIONS,
        log,
        service: this.service,
        instanceId: this.instanceId,
      }),
    );
    this.pool = createPool({
      url: config.DATABASE_URL,
      schema: this.schema,
      max: config.DB_POOL_MAX,
      applicationName: this.instanceId,
    });
    this.shutdown.on('resources', 'postgres pool', () => this.pool.end());

    this.redis = createRedis(config.REDIS_URL, { name: this.instanceId });
    this.shutdown.on('resources', 'redis', async () => {
      await this.redis.quit().catch(() => this.redis.disconnect());
    });
    // Redis holds only what can be rebuilt: the service starts without it and ioredis keeps reconnecting.
    this.redis.connect().catch((err: unknown) => log.warn({ err }, 'Redis is not available yet; carrying on without it'));

    this.nc = await connectNats({
      servers: config.NATS_URL,
      name: this.instanceId,
      user: config.NATS_USER,
      pass: config.NATS_PASSWORD,
      inboxPrefix: inboxPrefix(this.service),
      log,
    });
    this.shutdown.on('nats', 'nats drain', () => (this.nc.isClosed() ? undefined : this.nc.drain()));
    this.rpc = new RpcClient(this.nc);
    const maxPayload = this.nc.info?.max_payload;
    // Headers (trace context, Nats-Msg-Id) ride beside the payload and count against max_payload.
    if (maxPayload && config.OUTBOX_MAX_MESSAGE_BYTES + 4_096 > maxPayload)
      log.warn({ max_payload: maxPayload, bound: config.OUTBOX_MAX_MESSAGE_BYTES }, 'OUTBOX_MAX_MESSAGE_BYTES is too close to the NATS server\'s max_payload: large messages will be parked');

    this.serve({ status: statusRequests[this.service] }, { status: async () => this.status() });
    this.serve(outboxRequests[this.service], {
      parked: (page) => listParked(this.pool, page),
      retry: async ({ id }) => {
        const moved = await retryParked(this.pool, id);
        log.info({ event_id: id, subject: moved.subject }, 'parked outbox row moved back to the outbox');
        await this.relay?.refreshParked();
        return moved;
      },
    });
    this.serve(jobRequests[this.service], { requeue: requeueHandler(this.requeueTargets, { pool: this.pool, log }) });
    this.startHeartbeat();
    const expire = setInterval(
      () => void expireIdempotencyKeys(this.pool, config.IDEMPOTENCY_TTL_SECONDS).catch(() => {}),
      10 * 60_000,
    );
    expire.unref();
    this.shutdown.on('stop-intake', 'idempotency key expiry', () => clearInterval(expire));
  }

  /** Retries `fn` while it fails because a dependency is away (backoff 0.5 s doubling to 5 s), until stopped. */
  private async whileUnavailable<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isUnavailable(err) || this.state === 'draining') throw err;
        if (attempt === 1 || attempt % 12 === 0) this.log.warn({ err, attempt }, `${what} is not available yet; waiting for it`);
        await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** Math.min(attempt - 1, 4), 5_000)));
      }
    }
  }

  /** Serves request routes; they stop taking requests first on shutdown and finish what is in flight. */
  serve<C extends Record<string, RequestRoute>>(routes: C, handlers: Handlers<C>): void {
    const server = serveRequests(this.nc, { routes, handlers, queue: this.service, log: this.log });
    this.shutdown.on('stop-intake', `requests ${Object.values(routes).map((r) => r.subject).join(',')}`, () =>
      server.drain(),
    );
  }

  /**
   * Handles a fire-and-forget signal (core NATS, queue group per service):
   * messages that do not parse are logged and dropped.
   */
  listen<S extends z.ZodType>(subject: string, schema: S, handler: (msg: z.output<S>) => Promise<void>): void {
    const inFlight = new Set<Promise<void>>();
    const sub = this.nc.subscribe(subject, {
      queue: this.service,
      callback: (err, msg) => {
        if (err) return;
        let raw: unknown;
        try {
          raw = msg.json();
        } catch {
          raw = undefined;
        }
        const parsed = schema.safeParse(raw);
        if (!parsed.success) return this.log.warn({ subject, issues: parsed.error.issues.length }, 'malformed message dropped');
        const p = handler(parsed.data)
          .catch((e: unknown) => this.log.error({ err: e, subject }, 'signal handler failed'))
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      },
    });
    this.shutdown.on('stop-intake', `signal ${subject}`, async () => {
      await sub.drain();
      await Promise.allSettled([...inFlight]);
    });
  }

  /**
   * Starts a job runner on a durable consumer. `requeue` is the service's own
   * way to run one of its dead letters again; without it the job is queued
   * again as it was.
   */
  runJobs<S extends z.ZodType>(opts: Omit<JobRunnerOptions<S>, 'nc' | 'log'> & { requeue?: RequeueHook }): JobRunner<S> {
    const { stream, durable } = opts.consumer;
    if (!this.requeueTargets.has(`${stream}/${durable}`))
      this.requeueTargets.set(`${stream}/${durable}`, { kind: 'jobs', consumer: opts.consumer, hook: opts.requeue });
    const runner = new JobRunner({ ...opts, nc: this.nc, log: this.log.child({ consumer: opts.consumer.durable }) });
    runner.start();
    this.shutdown.on('stop-intake', `stop pulling ${opts.consumer.durable}`, () => runner.stopPulling());
    // Jobs get most of the deadline; the rest is kept for the outbox, NATS, pools and telemetry.
    this.shutdown.on('in-flight', `jobs ${opts.consumer.durable}`, () => runner.stop(this.config.SHUTDOWN_TIMEOUT_MS * 0.6));
    return runner;
  }

  /**
   * Consumes events through a durable consumer on the EVENTS stream (shared by
   * every replica): one handler per event the consumer declares.
   */
  consume<S extends EventSubject>(consumer: EventConsumerDef<S>, handlers: EventHandlers<S>, opts: { concurrency?: number } = {}) {
    const handle = dispatchEvents(handlers);
    this.requeueTargets.set(`${consumer.stream}/${consumer.durable}`, { kind: 'events', consumer, handle });
    return this.runJobs({ consumer, schema: EventEnvelope, concurrency: opts.concurrency ?? 4, handler: handle });
  }

  /** Starts the outbox relay for this service's schema; it runs until in-flight work is done. */
  startOutbox(opts: { pollMs?: number } = {}): OutboxRelay {
    const relay = new OutboxRelay({
      pool: this.pool,
      databaseUrl: this.config.DATABASE_URL,
      schema: this.schema,
      nc: this.nc,
      log: this.log.child({ component: 'outbox' }),
      pollMs: opts.pollMs,
      parkAfterAttempts: this.config.OUTBOX_PARK_AFTER_ATTEMPTS,
      service: this.service,
    });
    this.relay = relay;
    relay.start();
    this.shutdown.on('outbox', 'outbox relay', () => relay.stop());
    return relay;
  }

  /**
   * Ready once the server has every subscription this instance made (a flush
   * round trip): a request sent right after "ready" from another connection
   * must find a responder.
   */
  async markReady(): Promise<void> {
    await this.nc.flush().catch(() => {});
    // A signal during start-up already began the drain: stay draining.
    if (this.state === 'draining') return;
    this.state = 'ready';
    this.sendHeartbeat();
  }

  /** The process's telemetry, when the runtime was started by serviceMain. */
  get telemetry(): Telemetry | undefined {
    return this.o.telemetry;
  }

  get currentState(): State {
    return this.state;
  }

  async checks(): Promise<Record<'postgres' | 'redis' | 'nats', DependencyHealth>> {
    const [postgres, redis, nats] = await Promise.all([
      this.pool ? probe(() => this.pool.query('SELECT 1')) : Promise.resolve<DependencyHealth>({ status: 'down', error: 'not connected' }),
      this.redis ? probe(() => this.redis.ping()) : Promise.resolve<DependencyHealth>({ status: 'down', error: 'not connected' }),
      this.nc ? probe(() => this.nc.rtt()) : Promise.resolve<DependencyHealth>({ status: 'down', error: 'not connected' }),
    ]);
    return { postgres, redis, nats };
  }

  async status(): Promise<ServiceStatus> {
    return {
      service: this.service,
      instance_id: this.instanceId,
      version: this.version,
      started_at: this.startedAt.toISOString(),
      uptime_s: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      state: this.state,
      dependencies: await this.checks(),
    };
  }

  private startHeartbeat() {
    const interval = this.config.HEARTBEAT_INTERVAL_MS;
    this.heartbeatTimer = setInterval(() => this.sendHeartbeat(), interval);
    this.heartbeatTimer.unref();
    this.shutdown.on('not-ready', 'heartbeat', () => {
      clearInterval(this.heartbeatTimer);
      return this.sendHeartbeat(true);
    });
  }

  private async sendHeartbeat(stopping = false) {
    try {
      const beat: Heartbeat = {
        ...(await this.status()),
        host: hostname(),
        pid: process.pid,
        interval_ms: this.config.HEARTBEAT_INTERVAL_MS,
        stopping,
      };
      if (!this.nc.isClosed()) this.nc.publish(signals.heartbeat, enc.encode(JSON.stringify(Heartbeat.parse(beat))));
    } catch (err) {
      this.log.debug({ err }, 'heartbeat not sent');
    }
  }

  /** Ordered shutdown: not ready → stop intake → finish in-flight → outbox → NATS → pools → telemetry. */
  async stop(reason: string): Promise<boolean> {
    this.state = 'draining';
    if (this.o.telemetry) {
      const t = this.o.telemetry;
      this.shutdown.on('telemetry', 'telemetry flush', () => t.shutdown());
    }
    return this.shutdown.run(this.config.SHUTDOWN_TIMEOUT_MS, reason);
  }
}
